namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.Catalogue;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>The catalogue's store on the embedded default's in-process Garnet server.</summary>
public sealed class CatalogueStoreTests : IAsyncLifetime
{
    private EmbeddedStore _store = null!;

    public async ValueTask InitializeAsync() => _store = await EmbeddedStore.StartAsync("sessionrec-catalogue-");

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private static CatalogueItem Item(string id) =>
        new(id, $"Title of {id}", "Brand", ["Beauty"], new Dictionary<string, string>(), null, true, DateTimeOffset.UnixEpoch);

    [Fact(Timeout = 60_000)]
    public async Task AnItemThatNoLongerParsesReadsAsAbsentAndTheRestOfTheCatalogueStillLoads()
    {
        var store = new RedisCatalogueStore(_store.Redis, _store.Barrier);
        await store.SaveAsync("shop", [Item("a"), Item("b"), Item("c")]);

        // As a store that lost a record's end leaves it: the same length, the second half zeros.
        var db = _store.Redis.GetDatabase();
        var stored = (byte[])(await db.HashGetAsync(RedisKeys.Items("shop"), "b"))!;
        Array.Clear(stored, stored.Length / 2, stored.Length - (stored.Length / 2));
        await db.HashSetAsync(RedisKeys.Items("shop"), "b", stored);

        var loaded = new List<string>();
        await foreach (var item in store.LoadAllAsync("shop"))
        {
            loaded.Add(item.Id);
        }

        Assert.Equal(["a", "c"], loaded.Order());
        Assert.Null(await store.GetAsync("shop", "b"));
        Assert.Equal(["a", null, "c"], (await store.GetManyAsync("shop", ["a", "b", "c"])).Select(i => i?.Id));

        // Written again, it is whole.
        await store.SaveAsync("shop", [Item("b")]);
        Assert.Equal("Title of b", (await store.GetAsync("shop", "b"))?.Title);
    }
}
