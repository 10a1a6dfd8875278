namespace SessionRec.Api.Tests;

using System.Diagnostics;
using System.Net;
using SessionRec.Abstractions.Events;
using SessionRec.Api.Contracts;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>
/// A tenant whose click log takes longer to read than the cluster's response timeout: its first requests after a
/// start are answered (from what the grains have read so far), never with 503, while the rebuild goes on.
/// </summary>
public sealed class WarmUpTests : IAsyncLifetime
{
    private const int Records = 300_000;
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact(Timeout = 300_000)]
    public async Task TheFirstReadsOfATenantWithALongLogAreAnsweredNot503()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            // A long log written straight to the store, as a previous run of the service left it.
            var log = new RedisClickLog(redis, new ServerPolicyBarrier());
            var at = DateTimeOffset.UtcNow.AddDays(-1);
            for (var start = 0; start < Records; start += 2_000)
            {
                var batch = Enumerable.Range(start, 2_000).Select(i => new UserEvent(
                    $"w{i}", $"user{i % 5_000}", null, EventType.Search, null, $"warm query {i % 40}", null, null, at, at)).ToList();
                await log.AppendAsync(ApiFactory.TenantA, batch, ct);
            }
        }

        await using var factory = new ApiFactory(_redis.ConnectionString, new Dictionary<string, string?> { ["Orleans:ResponseTimeout"] = "00:00:02.500" });
        using var client = factory.ClientFor(ApiFactory.KeyA);
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/items", new { items = new[] { Http.Item("w-item") } })).StatusCode);

        var watch = Stopwatch.StartNew();
        var suggestions = await client.GetAsync("/v1/users/first/suggestions?q=warm", ct);
        Assert.True(suggestions.StatusCode == HttpStatusCode.OK, $"{suggestions.StatusCode} after {watch.ElapsedMilliseconds} ms: {await suggestions.Content.ReadAsStringAsync(ct)}");
        var recommendations = await client.GetAsync("/v1/users/first/recommendations", ct);
        Assert.Equal(HttpStatusCode.OK, recommendations.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/items/w-item", ct)).StatusCode);

        // The rebuild finishes in the background: every query of the log is then suggested.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var response = await client.GetAsync("/v1/users/first/suggestions?q=warm&k=20", ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var texts = (await response.Read<SuggestionsResponse>()).Suggestions.Select(s => s.Text).Where(t => t.StartsWith("warm query", StringComparison.Ordinal)).ToList();
            if (texts.Count == 20)
            {
                break;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(120), $"The query log was not rebuilt in 120 s ({texts.Count} of 20 queries suggested).");
            await Task.Delay(200, ct);
        }
    }
}
