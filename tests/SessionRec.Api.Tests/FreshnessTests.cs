namespace SessionRec.Api.Tests;

using SessionRec.Api.Contracts;

public sealed class FreshnessTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task RecommendationsReflectEventsPostedJustBefore()
    {
        var ct = TestContext.Current.CancellationToken;

        // The catalogue's periodic tail is made too slow to matter: only the notification on ingestion can explain
        // a fresh list.
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
        var recs = await (await client.GetAsync($"/v1/users/{w}-bob/recommendations", ct)).Read<RecommendationsResponse>();

        var top = Assert.Single(recs.Items);
        Assert.Equal(($"{w}-b", "cooccurrence"), (top.ItemId, top.Source));
    }
}
