namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.Catalogue;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
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
        var stored = (byte[])(await db.StringGetAsync(RedisKeys.Item("shop", "b")))!;
        Array.Clear(stored, stored.Length / 2, stored.Length - (stored.Length / 2));
        await db.StringSetAsync(RedisKeys.Item("shop", "b"), stored);

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

    /// <summary>
    /// A catalogue as stores before 2026-12-03 kept it — one hash, some items older than the change feed — is read,
    /// counted, written and deleted as before, and the first full load moves it to item keys, on the embedded store,
    /// on redis-server and on a 3-master Redis Cluster.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData("embedded")]
    [InlineData("redis-server")]
    [InlineData("redis-cluster")]
    public async Task ACatalogueKeptAsOneHashIsServedAsItWasAndMovedToItemKeysByTheFirstFullLoad(string kind)
    {
        await using var backend = await Backend.StartAsync(kind, _store);
        var store = new RedisCatalogueStore(backend.Redis, backend.Barrier);
        var db = backend.Redis.GetDatabase();
        static byte[] Json(CatalogueItem item) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(item, ServiceJson.Options);

        // The old layout: a, b and c in the hash; only a in the feed (b and c were written before it existed).
        // Plus 2,500 more, so the move takes several pages (a scan that read on while moving skipped some on Garnet).
        await db.HashSetAsync(RedisKeys.Items("shop"), [new("a", Json(Item("a"))), new("b", Json(Item("b"))), new("c", Json(Item("c")))]);
        await db.HashSetAsync(RedisKeys.Items("shop"), [.. Enumerable.Range(0, 2_500).Select(i => new HashEntry($"x{i}", Json(Item($"x{i}"))))]);
        await db.StringSetAsync(RedisKeys.ItemsVersion("shop"), 1);
        await db.SortedSetAddAsync(RedisKeys.ItemChanges("shop"), "a", 1);

        Assert.Equal(2_503, await store.CountAsync("shop"));
        Assert.Equal("Title of b", (await store.GetAsync("shop", "b"))?.Title);

        // Written and deleted before any move: the written one is read from its key, the deleted one is gone, once.
        await store.SaveAsync("shop", [Item("b") with { Title = "New b" }, Item("d")]);
        var (removed, _) = await store.DeleteAsync("shop", "c");
        Assert.True(removed);
        Assert.Equal(2_503, await store.CountAsync("shop"));
        Assert.Equal(["Title of a", "New b", null, "Title of d"], (await store.GetManyAsync("shop", ["a", "b", "c", "d"])).Select(i => i?.Title));

        var loaded = new List<CatalogueItem>();
        await foreach (var item in store.LoadAllAsync("shop"))
        {
            loaded.Add(item);
        }

        Assert.Equal(2_503, loaded.Count);
        Assert.Equal(["a", "b", "d"], loaded.Select(i => i.Id).Where(id => !id.StartsWith('x')).Order());
        Assert.Equal("New b", loaded.Single(i => i.Id == "b").Title);
        Assert.False(await db.KeyExistsAsync(RedisKeys.Items("shop")), "the hash is gone after the full load");
        Assert.Equal("Title of a", (await store.GetAsync("shop", "a"))?.Title);
        Assert.True(await db.KeyExistsAsync(RedisKeys.Item("shop", "a")));
        Assert.Equal(2_503, await store.CountAsync("shop"));

        // The moved items are no change a replica follows; later writes are.
        Assert.Equal(["b", "d", "c"], (await store.ChangedAsync("shop", 1, long.MaxValue, 10))!);
        await store.SaveAsync("shop", [Item("a") with { Title = "New a" }]);
        Assert.Equal(["c", "a"], (await store.ChangedAsync("shop", 2, long.MaxValue, 10))!.TakeLast(2));
        Assert.Equal(0, await store.MoveLegacyItemsAsync("shop"));
        Assert.Equal(2_503, await store.CountAsync("shop"));
    }

    /// <summary>
    /// Deletions past the number kept leave the change feed, so it holds the catalogue and that many deletions however
    /// many items come and go; a reader behind a deletion that left is told to load in full, one after it follows as
    /// before, and an item written again after its deletion is no deletion to drop — on the embedded store, on
    /// redis-server and on a 3-master Redis Cluster.
    /// </summary>
    [Theory(Timeout = 60_000)]
    [InlineData("embedded")]
    [InlineData("redis-server")]
    [InlineData("redis-cluster")]
    public async Task TheOldestDeletionsLeaveTheFeedAndAReaderBehindThemIsToldToLoadInFull(string kind)
    {
        await using var backend = await Backend.StartAsync(kind, _store);
        var store = new RedisCatalogueStore(backend.Redis, backend.Barrier) { TombstonesKept = 3 };
        var db = backend.Redis.GetDatabase();
        async Task<List<string>> Feed() => [.. (await db.SortedSetRangeByRankAsync(RedisKeys.ItemChanges("shop"))).Select(v => (string)v!).Order()];

        var saved = await store.SaveAsync("shop", [.. "abcdefg".Select(c => Item(c.ToString()))]);
        var afterA = (await store.DeleteAsync("shop", "a")).Version;
        await store.DeleteAsync("shop", "b");
        await store.SaveAsync("shop", [Item("b")]);
        var afterC = (await store.DeleteAsync("shop", "c")).Version;
        await store.DeleteAsync("shop", "d");
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g"], await Feed());
        Assert.Equal(["a", "b", "c", "d"], (await store.ChangedAsync("shop", saved, long.MaxValue, 100))!);

        // The fourth deletion kept: a's leaves the feed (b's was undone by writing b again).
        await store.DeleteAsync("shop", "e");
        Assert.Equal(["b", "c", "d", "e", "f", "g"], await Feed());
        Assert.Equal(3, await db.SortedSetLengthAsync(RedisKeys.ItemTombstones("shop")));
        Assert.Null(await store.ChangedAsync("shop", saved, long.MaxValue, 100));
        Assert.Equal(["b", "c", "d", "e"], (await store.ChangedAsync("shop", afterA, long.MaxValue, 100))!);

        await store.DeleteAsync("shop", "f");
        Assert.Equal(["b", "d", "e", "f", "g"], await Feed());
        Assert.Null(await store.ChangedAsync("shop", afterA, long.MaxValue, 100));
        Assert.Equal(["d", "e", "f"], (await store.ChangedAsync("shop", afterC, long.MaxValue, 100))!);

        var loaded = new List<string>();
        await foreach (var item in store.LoadAllAsync("shop"))
        {
            loaded.Add(item.Id);
        }

        Assert.Equal(["b", "g"], loaded.Order());
        Assert.Equal(2, await store.CountAsync("shop"));
    }

    [Fact(Timeout = 60_000)]
    public async Task ADeletionInAFeedWrittenBeforeDeletionsWereRecordedIsRecordedByAFullLoadAndLeavesLikeTheOthers()
    {
        var store = new RedisCatalogueStore(_store.Redis, _store.Barrier) { TombstonesKept = 2 };
        var db = _store.Redis.GetDatabase();
        var saved = await store.SaveAsync("shop", [Item("a"), Item("b"), Item("c")]);

        // As an older version left it: "gone" deleted at the next version, in the feed only.
        await db.StringSetAsync(RedisKeys.ItemsVersion("shop"), saved + 1);
        await db.SortedSetAddAsync(RedisKeys.ItemChanges("shop"), "gone", saved + 1);

        var loaded = new List<string>();
        await foreach (var item in store.LoadAllAsync("shop"))
        {
            loaded.Add(item.Id);
        }

        Assert.Equal(["a", "b", "c"], loaded.Order());
        Assert.Equal(["gone"], (await db.SortedSetRangeByRankAsync(RedisKeys.ItemTombstones("shop"))).Select(v => (string)v!));

        // Two deletions kept: the third (counting "gone") trims the oldest, "gone".
        await store.DeleteAsync("shop", "a");
        await store.DeleteAsync("shop", "b");
        Assert.Equal(["a", "b", "c"], (await db.SortedSetRangeByRankAsync(RedisKeys.ItemChanges("shop"))).Select(v => (string)v!).Order());
        Assert.Null(await store.ChangedAsync("shop", saved, long.MaxValue, 100));
        Assert.Equal(["a", "b"], (await store.ChangedAsync("shop", saved + 1, long.MaxValue, 100))!);
    }

    [Fact(Timeout = 60_000)]
    public async Task ItemsAreKeysOfTheirOwnCountedOnceHoweverOftenTheyAreWritten()
    {
        var store = new RedisCatalogueStore(_store.Redis, _store.Barrier);
        await store.SaveAsync("shop", [Item("a"), Item("b")]);
        await store.SaveAsync("shop", [Item("a") with { Title = "Again" }, Item("c")]);
        Assert.Equal(3, await store.CountAsync("shop"));
        Assert.False(await _store.Redis.GetDatabase().KeyExistsAsync(RedisKeys.Items("shop")), "no catalogue hash is written");
        Assert.Equal("Again", (string?)System.Text.Json.JsonDocument.Parse((string)(await _store.Redis.GetDatabase().StringGetAsync(RedisKeys.Item("shop", "a")))!).RootElement.GetProperty("title").GetString());

        Assert.True((await store.DeleteAsync("shop", "a")).Removed);
        Assert.False((await store.DeleteAsync("shop", "a")).Removed);
        Assert.Equal(2, await store.CountAsync("shop"));
        var loaded = new List<string>();
        await foreach (var item in store.LoadAllAsync("shop"))
        {
            loaded.Add(item.Id);
        }

        Assert.Equal(["b", "c"], loaded.Order());
    }

    /// <summary>The store a test runs on: the embedded one of this class, or a redis-server or 3-master Redis Cluster of its own.</summary>
    private sealed class Backend(IConnectionMultiplexer redis, IWriteBarrier barrier, params IAsyncDisposable?[] owned) : IAsyncDisposable
    {
        public IConnectionMultiplexer Redis => redis;

        public IWriteBarrier Barrier => barrier;

        public static async Task<Backend> StartAsync(string kind, EmbeddedStore embedded)
        {
            switch (kind)
            {
                case "redis-server":
                    var server = await RedisServer.StartAsync();
                    var toServer = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
                    return new Backend(toServer, new ServerPolicyBarrier(), toServer, server);
                case "redis-cluster":
                    var cluster = await RedisCluster.StartAsync(3);
                    var toCluster = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
                    return new Backend(toCluster, new ServerPolicyBarrier(), toCluster, cluster);
                default:
                    return new Backend(embedded.Redis, embedded.Barrier);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var resource in owned)
            {
                if (resource is not null)
                {
                    await resource.DisposeAsync();
                }
            }
        }
    }
}
