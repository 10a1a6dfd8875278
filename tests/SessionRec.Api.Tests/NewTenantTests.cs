namespace SessionRec.Api.Tests;

using SessionRec.Api.Contracts;

public sealed class NewTenantTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task ACatalogueWithoutInteractionsStillRecommendsItsNewestAvailableItems()
    {
        var ct = TestContext.Current.CancellationToken;
        await api.B.PutJson("/v1/items", new { items = new[] { Http.Item("old") } });
        await api.B.PutJson("/v1/items", new { items = new[] { Http.Item("hidden", available: false) } });
        await api.B.PutJson("/v1/items", new { items = new[] { Http.Item("newer") } });

        var recs = await (await api.B.GetAsync("/v1/users/first-visitor/recommendations?k=5", ct)).Read<RecommendationsResponse>();

        Assert.Equal(["newer", "old"], recs.Items.Select(i => i.ItemId));
        Assert.All(recs.Items, i => Assert.Equal(("new-in-catalogue", "new in the catalogue"), (i.Source, i.Reason)));
    }
}
