namespace SessionRec.Chaos;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

/// <summary>One request as the load saw it: when it started (seconds into the scenario), how long, and its status (0: no answer).</summary>
public readonly record struct Sample(double At, double Ms, int Status, bool Failed, int Api, bool Write);

/// <summary>
/// Closed-loop load on both APIs while a fault happens, as a shop's servers would send it: each client posts batches of
/// new events and asks for recommendations, alternating between the APIs. A batch that fails (no answer, 5xx, 429) is
/// sent again with the same event ids — to the other API first, as a load balancer would — until it is acknowledged;
/// the ids the service acknowledged (accepted or duplicate) are the client's ledger. An API that did not answer is
/// avoided for a second. Every request is a <see cref="Sample"/>.
/// </summary>
public sealed class Load : IAsyncDisposable
{
    public const int EventsPerBatch = 5;
    public const int Users = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly HttpClient[] _apis;
    private readonly long[] _avoidUntil;
    private readonly string _prefix;
    private readonly ConcurrentBag<Sample> _samples = [];
    private readonly ConcurrentDictionary<string, byte> _acknowledged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _serverErrors = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task[] _clients;

    public Load(IReadOnlyList<string> apis, string key, string prefix, int clients)
    {
        _prefix = prefix;
        _apis = [.. apis.Select(url =>
        {
            var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return http;
        })];
        _avoidUntil = new long[apis.Count];
        _clients = [.. Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c)))];
    }

    /// <summary>Seconds since the load started (the scenario's clock).</summary>
    public double Now => _clock.Elapsed.TotalSeconds;

    public IReadOnlyCollection<string> Acknowledged => [.. _acknowledged.Keys];

    /// <summary>Event ids sent at least once, acknowledged or not.</summary>
    public IReadOnlyCollection<string> Sent => [.. _sent.Keys];

    public IReadOnlyList<Sample> Samples => [.. _samples.OrderBy(s => s.At)];

    /// <summary>
    /// The first few answers that were a server error other than 503 (what a client retries): the route and the problem
    /// body, so that one seen once in CI can be explained from the test's output.
    /// </summary>
    public IReadOnlyList<string> ServerErrors => [.. _serverErrors];

    /// <summary>
    /// Stops starting new batches; a batch in flight keeps being retried until acknowledged or until
    /// <paramref name="drain"/> has passed.
    /// </summary>
    public async Task StopAsync(TimeSpan drain)
    {
        _stop.Cancel();
        await Task.WhenAny(Task.WhenAll(_clients), Task.Delay(drain));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(30));
        foreach (var api in _apis)
        {
            api.Dispose();
        }

        _stop.Dispose();
    }

    private async Task ClientAsync(int client)
    {
        var random = new Random(client);
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var user = $"{_prefix}-u{random.Next(Users)}";
            var events = Enumerable.Range(0, EventsPerBatch).Select(k => new
            {
                event_id = $"{_prefix}-{client}-{n}-{k}",
                user_id = user,
                type = "view",
                item_id = $"chaos-item-{random.Next(50)}",
            }).ToArray();
            await DeliverAsync(client + n, events.Select(e => e.event_id).ToArray(), new { events });
            await RecommendAsync(client + n, user);
        }
    }

    /// <summary>Sends the batch until the service acknowledges it; gives up (ids unacknowledged) only 60 s after the stop.</summary>
    private async Task DeliverAsync(int turn, string[] ids, object body)
    {
        foreach (var id in ids)
        {
            _sent.TryAdd(id, 0);
        }

        var giveUp = long.MaxValue;
        for (var attempt = 0; ; attempt++)
        {
            if (_stop.IsCancellationRequested && giveUp == long.MaxValue)
            {
                giveUp = Environment.TickCount64 + 60_000;
            }

            if (Environment.TickCount64 > giveUp)
            {
                return;
            }

            var api = Pick(turn + attempt);
            var started = Now;
            var watch = Stopwatch.StartNew();
            try
            {
                using var response = await _apis[api].PostAsJsonAsync("/v1/events", body, Json);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    var result = await response.Content.ReadFromJsonAsync<EventsAnswer>(Json);
                    _samples.Add(new Sample(started, watch.Elapsed.TotalMilliseconds, status, false, api, true));
                    foreach (var r in result?.Results ?? [])
                    {
                        if (r.EventId is not null && r.Status is "accepted" or "duplicate")
                        {
                            _acknowledged.TryAdd(r.EventId, 0);
                        }
                    }

                    return;
                }

                _samples.Add(new Sample(started, watch.Elapsed.TotalMilliseconds, status, true, api, true));
                await KeepServerErrorAsync(response, $"+{started:0.0}s api-{api + 1} POST /v1/events");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                _samples.Add(new Sample(started, watch.Elapsed.TotalMilliseconds, 0, true, api, true));
                Avoid(api);
            }

            await Task.Delay(Math.Min(1_000, 50 * (attempt + 1)));
        }
    }

    private async Task RecommendAsync(int turn, string user)
    {
        var api = Pick(turn);
        var started = Now;
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await _apis[api].GetAsync($"/v1/users/{user}/recommendations?k=10");
            _samples.Add(new Sample(started, watch.Elapsed.TotalMilliseconds, (int)response.StatusCode, !response.IsSuccessStatusCode, api, false));
            await KeepServerErrorAsync(response, $"+{started:0.0}s api-{api + 1} GET /v1/users/{user}/recommendations");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            _samples.Add(new Sample(started, watch.Elapsed.TotalMilliseconds, 0, true, api, false));
            Avoid(api);
        }
    }

    private async Task KeepServerErrorAsync(HttpResponseMessage response, string route)
    {
        var status = (int)response.StatusCode;
        if (status < 500 || status == 503 || _serverErrors.Count >= 5)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync();
        _serverErrors.Enqueue($"{route} {status}: {(body.Length > 2_000 ? body[..2_000] : body)}");
    }

    /// <summary>The API for this turn, unless it did not answer within the last second (then the other).</summary>
    private int Pick(int turn)
    {
        var api = turn % _apis.Length;
        return Environment.TickCount64 < Volatile.Read(ref _avoidUntil[api]) ? (api + 1) % _apis.Length : api;
    }

    private void Avoid(int api) => Volatile.Write(ref _avoidUntil[api], Environment.TickCount64 + 1_000);

    private sealed record EventsAnswer(List<EventAnswer>? Results);

    private sealed record EventAnswer(string? EventId, string? Status);
}
