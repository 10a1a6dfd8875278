namespace SessionRec.Chaos;

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

/// <summary>
/// A fault: what it does to the cluster; it returns once the fault is over (killed processes started again). A fault
/// of several steps (a rolling restart) calls the mark action as each later step begins: recovery is measured per step.
/// </summary>
public sealed record Scenario(string Name, Func<LocalCluster, Action, CancellationToken, Task> Inject);

/// <summary>One scenario's figures (targets.md, "Chaos results").</summary>
public sealed record ChaosRow(
    string Scenario, int Acknowledged, int Lost, int Duplicated, int Requests, int FailedRequests, IReadOnlyDictionary<string, int> FailedStatuses,
    double RecoveryS, double P99MsDuring, double P99MsAfter, double FaultS, IReadOnlyList<string> Failures, IReadOnlyList<string> Died,
    IReadOnlyList<string>? ServerErrors = null);

/// <summary>
/// Runs scenarios one after another against a running local cluster, each under load: 3 s of load, the fault, then
/// load until no request has failed for <see cref="QuietAfter"/> (at most <see cref="MaxAfterFault"/> after the
/// fault). Then the whole click log is read back and each scenario's acknowledged event ids are counted in it:
/// missing ones are lost, ones logged more than once duplicated.
/// </summary>
public sealed class ChaosRunner(LocalCluster cluster, int clients, Action<string> progress)
{
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan QuietAfter = TimeSpan.FromSeconds(8);
    public static readonly TimeSpan MaxAfterFault = TimeSpan.FromSeconds(90);

    /// <summary>Every scenario of the suite, in the order they run.</summary>
    public static IReadOnlyList<Scenario> All =>
    [
        .. LocalCluster.Silos.Select(KillSilo),
        KillApi("api-1"),
        KillRedis,
        PauseSilo("silo-2", TimeSpan.FromSeconds(25)),
        RollingRestart,
    ];

    /// <summary>The CI-sized suite: one silo kill, one Redis restart.</summary>
    public static IReadOnlyList<Scenario> Ci => [KillSilo("silo-1"), KillRedis];

    public async Task<IReadOnlyList<ChaosRow>> RunAsync(IReadOnlyList<Scenario> scenarios, CancellationToken ct)
    {
        var runs = new List<(Scenario Scenario, string Prefix, Load Load, List<double> Steps, double FaultEnd, double End, IReadOnlyList<string> Died)>();
        var run = Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < scenarios.Count; i++)
        {
            var scenario = scenarios[i];
            var prefix = $"chaos-{run}-{i}";
            progress($"[{i + 1}/{scenarios.Count}] {scenario.Name}: load on both APIs ({clients} clients)");
            var load = new Load(LocalCluster.Apis, cluster.Key, prefix, clients);

            // The fault comes once the cluster has served the load for a while without an error (a cluster that has
            // just started or recovered may still be warming up: those errors are not the fault's).
            var warmStart = load.Now;
            while (true)
            {
                await Task.Delay(250, ct);
                var lastFailure = load.Samples.Where(s => s.Failed).Select(s => s.At + (s.Ms / 1000)).DefaultIfEmpty(warmStart).Max();
                if (load.Now - Math.Max(lastFailure, warmStart) >= Warmup.TotalSeconds || load.Now - warmStart > 120)
                {
                    break;
                }
            }

            var faultAt = load.Now;
            var steps = new List<double> { faultAt };
            await scenario.Inject(cluster, () => steps.Add(load.Now), ct);
            var faultEnd = load.Now;
            progress($"    fault over after {faultEnd - faultAt:0.0} s; waiting for {QuietAfter.TotalSeconds:0} s without errors");
            while (true)
            {
                await Task.Delay(500, ct);
                var lastFailure = load.Samples.Where(s => s.Failed).Select(s => s.At).DefaultIfEmpty(faultAt).Max();
                if (load.Now - Math.Max(lastFailure, faultEnd) >= QuietAfter.TotalSeconds || load.Now - faultAt > MaxAfterFault.TotalSeconds)
                {
                    break;
                }
            }

            await load.StopAsync(TimeSpan.FromSeconds(60));
            var died = await EnsureAllUpAsync(ct);
            runs.Add((scenario, prefix, load, steps, faultEnd, load.Now, died));
        }

        progress("reading the click log back");
        var logged = await ReadLoggedIdsAsync(ct);
        var rows = new List<ChaosRow>();
        foreach (var (scenario, prefix, load, steps, faultEnd, _, died) in runs)
        {
            var faultAt = steps[0];
            var samples = load.Samples.Where(s => s.At >= faultAt).ToList();
            var acknowledged = load.Acknowledged;
            var failures = samples.Where(s => s.Failed).ToList();

            // Per step: from the step until the last failed request started before the next step ended.
            var recovery = 0.0;
            for (var i = 0; i < steps.Count; i++)
            {
                var next = i + 1 < steps.Count ? steps[i + 1] : double.MaxValue;
                var inStep = failures.Where(f => f.At >= steps[i] && f.At < next).ToList();
                recovery = Math.Max(recovery, inStep.Count == 0 ? 0 : inStep.Max(f => f.At + (f.Ms / 1000)) - steps[i]);
            }

            var recoveredAt = faultAt + Math.Max(recovery, faultEnd - faultAt);
            rows.Add(new ChaosRow(
                scenario.Name,
                acknowledged.Count,
                acknowledged.Count(id => logged.GetValueOrDefault(id) == 0),
                load.Sent.Count(id => logged.GetValueOrDefault(id) > 1),
                samples.Count,
                samples.Count(s => s.Failed),
                samples.Where(s => s.Failed).GroupBy(s => s.Status == 0 ? "no answer" : s.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .ToDictionary(g => g.Key, g => g.Count()),
                Math.Round(recovery, 1),
                P99(samples.Where(s => s.At >= faultAt && s.At <= recoveredAt)),
                P99(samples.Where(s => s.At > recoveredAt)),
                Math.Round(faultEnd - faultAt, 1),
                [.. failures.Take(40).Select(f => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"+{f.At - faultAt:0.0}s api-{f.Api + 1} {(f.Write ? "POST events" : "GET recs")} {(f.Status == 0 ? "no answer" : f.Status.ToString(System.Globalization.CultureInfo.InvariantCulture))} after {f.Ms:0} ms"))],
                died,
                load.ServerErrors));
            await load.DisposeAsync();
        }

        return rows;
    }

    /// <summary>
    /// Brings back any process that is down after the scenario (one the fault did not start again: it died of the
    /// fault's consequences), and waits for both APIs. Returns the names it had to start.
    /// </summary>
    private async Task<IReadOnlyList<string>> EnsureAllUpAsync(CancellationToken ct)
    {
        var died = new List<string>();
        foreach (var name in new[] { "redis" }.Concat(LocalCluster.Silos).Concat(["api-1", "api-2"]))
        {
            if (!cluster.Alive(name))
            {
                progress($"    {name} is down: starting it again");
                died.Add(name);
                await cluster.StartAsync(name, ct);
            }
        }

        foreach (var api in LocalCluster.Apis)
        {
            await cluster.WaitReadyAsync(api, TimeSpan.FromSeconds(90), ct);
        }

        return died;
    }

    /// <summary>How often each event id of the tenant's log appears in it (impressions, which have server ids, aside).</summary>
    private async Task<Dictionary<string, int>> ReadLoggedIdsAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(LocalCluster.Apis[0]), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Key);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        for (var cursor = string.Empty; ;)
        {
            // Cursor pages: on a Redis Cluster the tenant's log is partitioned, and a sequence number is no place in it.
            var page = await http.GetFromJsonAsync<LogPage>($"/v1/clicklog?limit=5000{(cursor.Length == 0 ? "" : "&cursor=" + cursor)}", json, ct)
                ?? throw new InvalidOperationException("The click log answered nothing.");
            foreach (var record in page.Records)
            {
                if (record.Type != "impression")
                {
                    counts[record.EventId] = counts.GetValueOrDefault(record.EventId) + 1;
                }
            }

            if (!page.More)
            {
                return counts;
            }

            cursor = page.NextCursor;
        }
    }

    private static double P99(IEnumerable<Sample> samples)
    {
        var ms = samples.Select(s => s.Ms).Order().ToArray();
        return ms.Length == 0 ? 0 : Math.Round(ms[Math.Min(ms.Length - 1, (int)Math.Ceiling(ms.Length * 0.99) - 1)], 1);
    }

    private static Scenario KillSilo(string silo) => new($"kill -9 {silo}", async (c, _, ct) =>
    {
        var starts = c.StartsLogged(silo);
        await c.SignalAsync(silo, "KILL", ct);
        await c.WaitExitAsync(silo, TimeSpan.FromSeconds(10), ct);
        await c.StartAsync(silo, ct);
        await c.WaitStartedAsync(silo, starts, TimeSpan.FromSeconds(90), ct);
    });

    private static Scenario KillApi(string api) => new($"kill -9 {api}", async (c, _, ct) =>
    {
        await c.SignalAsync(api, "KILL", ct);
        await c.WaitExitAsync(api, TimeSpan.FromSeconds(10), ct);
        await c.StartAsync(api, ct);
        await c.WaitReadyAsync(LocalCluster.Apis[int.Parse(api[^1..], System.Globalization.CultureInfo.InvariantCulture) - 1], TimeSpan.FromSeconds(90), ct);
    });

    private static readonly Scenario KillRedis = new("kill -9 redis-server, restart after 2 s", async (c, _, ct) =>
    {
        await c.SignalAsync("redis", "KILL", ct);
        await c.WaitExitAsync("redis", TimeSpan.FromSeconds(10), ct);
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await c.StartAsync("redis", ct);
    });

    /// <summary>
    /// SIGSTOP past the membership timeout (Orleans declares a silo dead after 3 missed 5-s probes), then SIGCONT: the
    /// silo learns it was declared dead and stops; it is started again.
    /// </summary>
    private static Scenario PauseSilo(string silo, TimeSpan pause) => new($"SIGSTOP {silo} for {pause.TotalSeconds:0} s, then SIGCONT", async (c, _, ct) =>
    {
        var starts = c.StartsLogged(silo);
        await c.SignalAsync(silo, "STOP", ct);
        await Task.Delay(pause, ct);
        await c.SignalAsync(silo, "CONT", ct);
        if (await c.WaitExitAsync(silo, TimeSpan.FromSeconds(30), ct))
        {
            await c.StartAsync(silo, ct);
            await c.WaitStartedAsync(silo, starts, TimeSpan.FromSeconds(90), ct);
        }
    });

    private static readonly Scenario RollingRestart = new("rolling restart of every silo (SIGTERM, start, next)", async (c, mark, ct) =>
    {
        foreach (var silo in LocalCluster.Silos)
        {
            if (silo != LocalCluster.Silos[0])
            {
                mark();
            }

            var starts = c.StartsLogged(silo);
            await c.SignalAsync(silo, "TERM", ct);
            if (!await c.WaitExitAsync(silo, TimeSpan.FromSeconds(30), ct))
            {
                await c.SignalAsync(silo, "KILL", ct);
                await c.WaitExitAsync(silo, TimeSpan.FromSeconds(10), ct);
            }

            await c.StartAsync(silo, ct);
            await c.WaitStartedAsync(silo, starts, TimeSpan.FromSeconds(90), ct);
        }
    });

    private sealed record LogPage(List<LogRecord> Records, string NextCursor, bool More);

    private sealed record LogRecord(string EventId, string Type);
}
