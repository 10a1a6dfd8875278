// HTTP load generator for a running SessionRec service (loopback only). It measures, in one run:
//   floor        GET /health/live: the ASP.NET Core + loopback floor on this machine (the baseline)
//   recs         GET /v1/users/{u}/recommendations?k=20 for random users (those without a live session get popular items)
//   recs-context the same with a random context_item, so a model (when active) scores every request (single pass)
//   recs-rounds=R the same with R rounds of multi-round retrieval (R = 1..5; a model with a round encoder)
//   events-1     POST /v1/events, one event per request (views of random items by bench-1 .. bench-4999)
//   events-100   POST /v1/events, batches of 100
//                (before the first events scenario, each bench user gets one event: the rows measure active users)
//   suggestions  GET /v1/users/{u}/suggestions?q=<0-3 letters of a common query>
//   analytics    GET /v1/analytics/sessions with the dashboard's queries in turn (after waiting until the tenant's
//                analytics has read its whole log); a large log comes from `sessionrec generate clicklog`
// --first-touch true: before the suggestions and recommendation scenarios, each user's first request (users 1..N once
// each, in turn; a recommendation with a context item), a row of its own ("suggestions-first-touch",
// "recs-context-first-touch"); the scenario that follows then finds every user active.
// --add-items N first adds N synthetic items with catalogue-like metadata (to measure a larger catalogue).
// Each scenario runs closed-loop with C concurrent clients for D seconds; latencies are per request.
// Usage: dotnet run -c Release --project bench/SessionRec.LoadTest -- --url http://127.0.0.1:5080 --key KEY
//        [--seconds 10] [--concurrency 16] [--users 22363] [--items 12101] [--out docs/bench.md] [--only floor,recs-context]
//        [--add-items 88000]
//        [--json docs/results/bench-serving.json --serving model --catalogue 100101 [--pid SERVICE_PID] [--name serving]]
// --json merges this run's rows (one per scenario; the floor's req/s of this run beside each) into a results file in
// the format of targets.md and rewrites its .md; rows of the same scenario, serving, catalogue and clients are
// replaced. --pid adds the service's resident memory after the run to the facts (rss_mb per catalogue size), and its
// CPU time per request in each measured run (printed; the median run's as service_cpu_ms_per_request in --json).
// --repeat N measures each scenario N times after its warm-up and keeps the run with the median req/s (its p50, p99
// and the floor's median run beside it); every run's req/s is printed and recorded (runs, rps_runs), and errors are
// summed over the runs. Single runs on a shared two-core machine vary by a third: a median of five says more.
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using SessionRec.Bench;

var options = BenchOptions.Parse(args);
var url = options.GetValueOrDefault("url", "http://127.0.0.1:5080");
var key = options.GetValueOrDefault("key") ?? Environment.GetEnvironmentVariable("SESSIONREC_API_KEY") ?? File.ReadAllText("data/api-key.txt").Trim();
var seconds = double.Parse(options.GetValueOrDefault("seconds", "10"), CultureInfo.InvariantCulture);
var concurrency = int.Parse(options.GetValueOrDefault("concurrency", "16"), CultureInfo.InvariantCulture);
var users = int.Parse(options.GetValueOrDefault("users", "22363"), CultureInfo.InvariantCulture);
var items = int.Parse(options.GetValueOrDefault("items", "12101"), CultureInfo.InvariantCulture);
var only = options.GetValueOrDefault("only");
var firstTouch = options.GetValueOrDefault("first-touch") == "true";
var repeat = Math.Max(1, int.Parse(options.GetValueOrDefault("repeat", "1"), CultureInfo.InvariantCulture));
int? servicePid = options.GetValueOrDefault("pid") is { } pidText ? int.Parse(pidText, CultureInfo.InvariantCulture) : null;
const int BenchUsers = 5_000; // events go to users bench-1 .. bench-4999

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = new Uri(url),
};
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

var runId = Guid.NewGuid().ToString("N")[..8];
long sequence = 0;
if (options.GetValueOrDefault("add-items") is { } addText)
{
    await AddItemsAsync(int.Parse(addText, CultureInfo.InvariantCulture));
}

string[] analyticsQueries =
[
    "", "?worst=10", "?compare=baseline-cooc-1,m2trec-synthetic", "?metric=sRBP&worst=25", "?surface=suggestions",
    $"?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-2).ToString("O", CultureInfo.InvariantCulture))}&metric=nsDCG",
];
string[] prefixes = ["", "l", "li", "lip", "n", "na", "nai", "s", "sh", "sha", "m", "ma", "mas", "c", "cr", "cre", "h", "ha", "hai"];
var scenarios = new (string Name, int EventsPerRequest, Func<Random, HttpRequestMessage> Make)[]
{
    ("floor (GET /health/live)", 0, _ => new HttpRequestMessage(HttpMethod.Get, "/health/live")),
    ("recommendations k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20")),
    // A context item makes every request go through the model (when one is active): the session is never empty.
    ("recs-context k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20&context_item={r.Next(1, items + 1)}&rounds=0")),
    // Multi-round retrieval (a model with a round encoder): 1 to 5 rounds of the same requests.
    ("recs-rounds=1 k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20&context_item={r.Next(1, items + 1)}&rounds=1")),
    ("recs-rounds=2 k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20&context_item={r.Next(1, items + 1)}&rounds=2")),
    ("recs-rounds=3 k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20&context_item={r.Next(1, items + 1)}&rounds=3")),
    ("recs-rounds=4 k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20&context_item={r.Next(1, items + 1)}&rounds=4")),
    ("recs-rounds=5 k=20", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/recommendations?k=20&context_item={r.Next(1, items + 1)}&rounds=5")),
    ("events, 1 per request", 1, r => Events(r, 1)),
    ("events, batches of 100", 100, r => Events(r, 100)),
    ("suggestions k=8", 0, r => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{r.Next(1, users + 1)}/suggestions?k=8&q={prefixes[r.Next(prefixes.Length)]}")),
    // What the dashboard asks, in turn: the default report, an A/B readout, other metrics, one surface, the last days.
    ("analytics sessions", 0, r => new HttpRequestMessage(HttpMethod.Get, "/v1/analytics/sessions" + analyticsQueries[r.Next(analyticsQueries.Length)])),
};

var results = new List<string>();
var rows = new List<BenchRow>();
var eventUsersActive = false;
var touchedKinds = new HashSet<string>();
foreach (var (name, perRequest, make) in scenarios)
{
    if (only is not null && !only.Split(',').Any(o => name.Contains(o, StringComparison.OrdinalIgnoreCase)))
    {
        continue;
    }

    if (firstTouch && FirstRequest(name) is { } first && touchedKinds.Add(first.Kind))
    {
        // Every user's first request, each user once, in order: what a user whose grains are not active costs. The
        // scenario after it then measures active users only; without it, how many requests find an inactive user
        // depends on how long the warm-up ran (after 70 s of recs-context, ~4% of 22k users; those are the p99).
        var (touched, touchErrors, touchElapsed) = await FirstTouchAsync(first.Make);
        touched.Sort();
        double T(double q) => touched.Count == 0 ? double.NaN : touched[Math.Min(touched.Count - 1, (int)(q * touched.Count))];
        var touchName = $"{name}, first request of each of {users:N0} users";
        var touchLine = $"| {touchName} | {T(0.5):0.00} | {T(0.99):0.00} | {touched.Count / touchElapsed.TotalSeconds:N0} |  | {touchErrors} |";
        Console.WriteLine(touchLine);
        results.Add(touchLine);
        rows.Add(new BenchRow(BenchResults.ScenarioId(name) + "-first-touch", T(0.5), T(0.99), touched.Count / touchElapsed.TotalSeconds, null, touchErrors));
    }

    if (name.StartsWith("analytics", StringComparison.Ordinal))
    {
        await AnalyticsCaughtUpAsync();
    }

    if (perRequest > 0 && !eventUsersActive)
    {
        // Events go to bench users 1..4,999: each gets one first, so the scenarios measure active users (a shopper
        // mid-session), not their grains' first activation, which 3 s of warm-up would leave half done.
        await ActivateEventUsersAsync();
        eventUsersActive = true;
    }

    await Run(name, make, TimeSpan.FromSeconds(3)); // warm-up: grain activations, JIT, connection pools
    var runs = new List<(List<double> Latencies, int Errors, double Rps, double? CpuMs, double GeneratorCpuMs)>();
    for (var i = 0; i < repeat; i++)
    {
        var cpuBefore = servicePid is { } before ? BenchResults.ProcessorTime(before) : null;
        var generatorBefore = Environment.CpuUsage.TotalTime;
        var (measured, failed, elapsed) = await Run(name, make, TimeSpan.FromSeconds(seconds));
        var generatorMs = (Environment.CpuUsage.TotalTime - generatorBefore).TotalMilliseconds / Math.Max(1, measured.Count);
        var cpuAfter = servicePid is { } after ? BenchResults.ProcessorTime(after) : null;
        var cpuMs = cpuBefore is { } b && cpuAfter is { } a && measured.Count > 0 ? (a - b).TotalMilliseconds / measured.Count : (double?)null;
        measured.Sort();
        runs.Add((measured, failed, measured.Count / elapsed.TotalSeconds, cpuMs, generatorMs));
        if (repeat > 1 || cpuMs is not null)
        {
            Console.WriteLine($"  {name}: run {i + 1} of {repeat}: {runs[^1].Rps:N0} req/s{(cpuMs is { } c ? $", service CPU {c:0.000} ms per request" : "")}, load generator CPU {generatorMs:0.000} ms per request");
        }
    }

    var byRate = runs.OrderBy(r => r.Rps).ToList();
    var (latencies, _, rps, serviceCpuMs, generatorCpuMs) = byRate[(byRate.Count - 1) / 2];
    var errors = runs.Sum(r => r.Errors);
    double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
    var label = repeat > 1 ? $"{name} (median of {repeat} runs: {byRate[0].Rps:N0}–{byRate[^1].Rps:N0} req/s)" : name;
    var line = $"| {label} | {P(0.5):0.00} | {P(0.99):0.00} | {rps:N0} | {(perRequest > 0 ? (rps * perRequest).ToString("N0", CultureInfo.InvariantCulture) : "")} | {errors} |";
    Console.WriteLine(line);
    results.Add(line);
    rows.Add(new BenchRow(BenchResults.ScenarioId(name), P(0.5), P(0.99), rps, perRequest > 0 ? rps * perRequest : null, errors)
    {
        RpsRuns = repeat > 1 ? [.. runs.Select(r => r.Rps)] : null,
        ServiceCpuMs = serviceCpuMs,
        GeneratorCpuMs = generatorCpuMs,
    });
}

if (options.GetValueOrDefault("json") is { } json)
{
    var rss = servicePid is { } pid ? BenchResults.ResidentMegabytes(pid) : (double?)null;
    BenchResults.Merge(
        json,
        options.GetValueOrDefault("name", "serving"),
        $"dotnet run -c Release --project bench/SessionRec.LoadTest -- {string.Join(' ', args.Select((a, i) => i > 0 && args[i - 1] == "--key" ? "KEY" : a))}",
        options.GetValueOrDefault("serving", "baseline"),
        int.Parse(options.GetValueOrDefault("catalogue", items.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
        concurrency,
        rows,
        rss);
}

var header = $"""
    Load test of {url}, {DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, {concurrency} concurrent clients, {seconds:0} s per scenario, client on the same machine.

    | scenario | p50 ms | p99 ms | requests/s | events/s | errors |
    |---|---|---|---|---|---|
    """;
var table = header + "\n" + string.Join("\n", results) + "\n";
if (options.GetValueOrDefault("out") is { } output)
{
    await File.WriteAllTextAsync(output, table);
}

return;

HttpRequestMessage Events(Random random, int count) =>
    EventsRequest(Enumerable.Range(0, count).Select(_ => (Interlocked.Increment(ref sequence).ToString(CultureInfo.InvariantCulture), random.Next(1, BenchUsers), random.Next(1, items + 1))));

// One event for each bench user, in batches of 100.
async Task ActivateEventUsersAsync()
{
    for (var first = 1; first < BenchUsers; first += 100)
    {
        var batch = Enumerable.Range(first, Math.Min(100, BenchUsers - first)).Select(u => ($"first-{u}", u, 1 + (u % items)));
        using var response = await http.SendAsync(EventsRequest(batch));
        response.EnsureSuccessStatusCode();
    }
}

// The tenant's analytics reads its whole log on its first activation: wait (with progress, up to an hour) until a
// report no longer says it is still reading, so the scenario measures reports, not the catch-up.
async Task AnalyticsCaughtUpAsync()
{
    var watch = Stopwatch.StartNew();
    while (true)
    {
        using var response = await http.GetAsync("/v1/analytics/sessions?worst=0");
        response.EnsureSuccessStatusCode();
        using var report = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var records = report.RootElement.GetProperty("records_read").GetInt64();
        if (!report.RootElement.GetProperty("truncated").GetBoolean())
        {
            Console.WriteLine($"analytics: caught up with the log in {watch.Elapsed.TotalSeconds:0} s ({records:N0} records in its sessions)");
            return;
        }

        if (watch.Elapsed > TimeSpan.FromHours(1))
        {
            throw new TimeoutException("the analytics did not catch up with the log within an hour");
        }

        Console.WriteLine($"analytics: reading the log, {records:N0} records so far ({watch.Elapsed.TotalSeconds:0} s)");
        await Task.Delay(TimeSpan.FromSeconds(5));
    }
}

// Views of items by bench users, under this run's event ids.
HttpRequestMessage EventsRequest(IEnumerable<(string Id, int User, int Item)> events)
{
    var sb = new StringBuilder("{\"events\":[");
    var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
    var separator = "";
    foreach (var (id, user, item) in events)
    {
        sb.Append(separator)
            .Append("{\"event_id\":\"bench-").Append(runId).Append('-').Append(id)
            .Append("\",\"user_id\":\"bench-").Append(user)
            .Append("\",\"type\":\"view\",\"item_id\":\"").Append(item)
            .Append("\",\"timestamp\":\"").Append(now).Append("\"}");
        separator = ",";
    }

    sb.Append("]}");
    return new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(sb.ToString(), Encoding.UTF8, "application/json") };
}

// A scenario's request for one given user, where --first-touch applies to it (users' first requests are measured
// apart from the scenario's requests to active users), and the kind of grain it activates (measured once per kind).
(string Kind, Func<int, HttpRequestMessage> Make)? FirstRequest(string name) =>
    name.StartsWith("suggestions", StringComparison.Ordinal)
        ? ("suggestions", u => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{u}/suggestions?k=8&q={prefixes[u % prefixes.Length]}"))
        : name.StartsWith("recs-", StringComparison.Ordinal) || name.StartsWith("recommendations", StringComparison.Ordinal)
            ? ("sessions", u => new HttpRequestMessage(HttpMethod.Get, $"/v1/users/{u}/recommendations?k=20&context_item={1 + (u % items)}&rounds=0"))
            : null;

// Each user 1..users once (the clients take the next user in turn), timed like a scenario.
async Task<(List<double> Latencies, int Errors, TimeSpan Elapsed)> FirstTouchAsync(Func<int, HttpRequestMessage> make)
{
    var all = new List<double>[concurrency];
    var errors = 0;
    var next = 0;
    var stopwatch = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, concurrency).Select(async w =>
    {
        var mine = all[w] = new List<double>(users / concurrency + 1);
        for (var user = Interlocked.Increment(ref next); user <= users; user = Interlocked.Increment(ref next))
        {
            using var request = make(user);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            if (response.IsSuccessStatusCode)
            {
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            else
            {
                Interlocked.Increment(ref errors);
            }
        }
    }).ToArray();
    await Task.WhenAll(workers);
    return (all.SelectMany(l => l).ToList(), errors, stopwatch.Elapsed);
}

async Task<(List<double> Latencies, int Errors, TimeSpan Elapsed)> Run(string name, Func<Random, HttpRequestMessage> make, TimeSpan duration)
{
    var all = new List<double>[concurrency];
    var errors = 0;
    var stopwatch = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, concurrency).Select(async w =>
    {
        var random = new Random(w * 7919 + 1);
        var mine = all[w] = new List<double>(100_000);
        while (stopwatch.Elapsed < duration)
        {
            using var request = make(random);
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.SendAsync(request);
                await response.Content.LoadIntoBufferAsync();
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref errors);
                continue;
            }

            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    return (all.SelectMany(l => l).ToList(), errors, stopwatch.Elapsed);
}

// Synthetic items shaped like a beauty catalogue: brands, three-level category paths and titles drawn from small
// vocabularies, so a model's item encoder sees realistic field shapes (unseen values map to [UNK]); the same items
// ann-recall --synthetic load-test measures recall on (CatalogueLikeItems).
async Task AddItemsAsync(int count)
{
    using var items = CatalogueLikeItems.Make(count).GetEnumerator();
    var watch = Stopwatch.StartNew();
    var retried = 0;
    for (var start = 0; start < count; start += 1000)
    {
        var sb = new StringBuilder("{\"items\":[");
        for (var i = start; i < Math.Min(count, start + 1000); i++)
        {
            items.MoveNext();
            var (id, title, brand, path) = items.Current;
            sb.Append(i == start ? "" : ",").Append("{\"id\":\"").Append(id).Append("\",\"title\":\"").Append(title)
                .Append("\",\"brand\":\"").Append(brand).Append("\",\"categories\":[")
                .Append(string.Join(',', path.Select(c => $"\"{c}\""))).Append("]}");
        }

        sb.Append("]}");

        // An upsert is idempotent: a batch refused as busy (503, 429: at ~900k items a catalogue upsert once timed out
        // while the index was rebuilt) is sent again, as a client should, up to a deadline — and counted.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            using var response = await http.PutAsync("/v1/items", new StringContent(sb.ToString(), Encoding.UTF8, "application/json"));
            if (response.StatusCode is not (System.Net.HttpStatusCode.ServiceUnavailable or System.Net.HttpStatusCode.TooManyRequests) || DateTime.UtcNow > deadline)
            {
                response.EnsureSuccessStatusCode();
                break;
            }

            retried++;
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    Console.WriteLine($"added {count:N0} synthetic items in {watch.Elapsed.TotalSeconds:0} s ({retried} batches sent again after a 503 or 429)");
}

