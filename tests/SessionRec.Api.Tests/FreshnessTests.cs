namespace SessionRec.Api.Tests;

using SessionRec.Api.Contracts;

public sealed class FreshnessTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task RecommendationsReflectEventsWithinTheSnapshotLag()
    {
        var ct = TestContext.Current.CancellationToken;

        // The builder's periodic tail is made too slow to matter: only the notification on ingestion (then a snapshot
        // within Recommendations:SnapshotInterval, 200 ms here, and the replica's poll, 100 ms) can explain a fresh list.
        await using var slowTail = new ApiFactory(api.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Recommendations:TailInterval"] = "00:10:00",
        });
        using var client = slowTail.ClientFor(ApiFactory.KeyB);
        var w = "fresh-" + Guid.NewGuid().ToString("N")[..6];
        await client.PutJson("/v1/items", new { items = new[] { Http.Item($"{w}-a"), Http.Item($"{w}-b") } });
        await client.GetAsync($"/v1/users/{w}-warm/recommendations", ct); // the catalogue grain is active now

        await client.PostJson("/v1/events", new { events = new[] { Http.View($"{w}-1", $"{w}-alice", $"{w}-a"), Http.View($"{w}-2", $"{w}-alice", $"{w}-b") } });
        await client.PostJson("/v1/events", new { events = new[] { Http.View($"{w}-3", $"{w}-bob", $"{w}-a") } });
        var started = System.Diagnostics.Stopwatch.StartNew();
        RecommendationsResponse recs;
        do
        {
            recs = await (await client.GetAsync($"/v1/users/{w}-bob/recommendations", ct)).Read<RecommendationsResponse>();
        }
        while (recs.Items[0].Source != "cooccurrence" && started.Elapsed < TimeSpan.FromSeconds(10) && await Delay(ct));

        var top = Assert.Single(recs.Items);
        Assert.Equal(($"{w}-b", "cooccurrence"), (top.ItemId, top.Source));
        TestContext.Current.SendDiagnosticMessage($"fresh after {started.ElapsedMilliseconds} ms");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_last_append_of_a_burst_reaches_the_statistics_too()
    {
        var ct = TestContext.Current.CancellationToken;

        // Notices to the builders are coalesced per window (LogAdvanceNotices): the burst's last post, whose
        // co-occurrence the check needs, is only heard of through the notice sent when the window ends.
        await using var slowTail = new ApiFactory(api.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Recommendations:TailInterval"] = "00:10:00",
        });
        using var client = slowTail.ClientFor(ApiFactory.KeyA); // its own tenant: the other test counts its tenant's items
        var w = "burst-" + Guid.NewGuid().ToString("N")[..6];
        await client.PutJson("/v1/items", new { items = new[] { Http.Item($"{w}-a"), Http.Item($"{w}-b"), Http.Item($"{w}-c"), Http.Item($"{w}-d") } });
        await client.GetAsync($"/v1/users/{w}-warm/recommendations", ct);

        await client.PostJson("/v1/events", new { events = new[] { Http.View($"{w}-1", $"{w}-alice", $"{w}-a"), Http.View($"{w}-2", $"{w}-alice", $"{w}-b") } });
        await client.PostJson("/v1/events", new { events = new[] { Http.View($"{w}-3", $"{w}-carol", $"{w}-c"), Http.View($"{w}-4", $"{w}-carol", $"{w}-d") } });
        await client.PostJson("/v1/events", new { events = new[] { Http.View($"{w}-5", $"{w}-bob", $"{w}-c") } });
        var started = System.Diagnostics.Stopwatch.StartNew();
        RecommendationsResponse recs;
        do
        {
            recs = await (await client.GetAsync($"/v1/users/{w}-bob/recommendations", ct)).Read<RecommendationsResponse>();
        }
        while (recs.Items[0].Source != "cooccurrence" && started.Elapsed < TimeSpan.FromSeconds(10) && await Delay(ct));

        Assert.Equal(($"{w}-d", "cooccurrence"), (recs.Items[0].ItemId, recs.Items[0].Source));
    }

    private static async Task<bool> Delay(CancellationToken ct)
    {
        await Task.Delay(50, ct);
        return true;
    }
}
