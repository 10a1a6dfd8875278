namespace SessionRec.Silo.Tests;

using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// Grain state as strings: read, write with Orleans' etag rule, clear, and state of the earlier hash form taken over
/// (or dropped when it cannot be read) — on the embedded store and on a Redis Cluster.
/// </summary>
public abstract class StringGrainStorageContract
{
    protected abstract string ConnectionString { get; }

    private StringGrainStorage NewStorage() =>
        new("session", "sessionrec", ConnectionString, new JsonStateSerializer(), NullLogger<StringGrainStorage>.Instance);

    private static GrainId User(string name) => GrainId.Create("usersession", $"t/{name}-{Guid.NewGuid():N}");

    [Fact(Timeout = 60_000)]
    public async Task StateIsWrittenAsOneStringReadBackAndClearedWithNothingLeft()
    {
        await using var storage = NewStorage();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        var db = redis.GetDatabase();
        var grain = User("u");
        var state = new GrainState<Counter>(new Counter { Events = 3, Items = ["a", "b"] });

        await storage.WriteStateAsync("session", grain, state);

        Assert.Equal(RedisType.String, await db.KeyTypeAsync(storage.Key("session", grain)));
        var read = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(3, read.State!.Events);
        Assert.Equal(["a", "b"], read.State!.Items);

        await storage.ClearStateAsync("session", grain, read);
        Assert.False(await db.KeyExistsAsync(storage.Key("session", grain)));
        var empty = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, empty);
        Assert.False(empty.RecordExists);
        Assert.Null(empty.ETag);
        Assert.Equal(0, empty.State!.Events);
    }

    [Fact(Timeout = 60_000)]
    public async Task AWriterHoldingAnOlderEtagIsRefused()
    {
        await using var storage = NewStorage();
        var grain = User("u");
        var first = new GrainState<Counter>(new Counter { Events = 1 });
        await storage.WriteStateAsync("session", grain, first);
        var stale = new GrainState<Counter>(new Counter { Events = 2 }) { ETag = first.ETag };
        first.State!.Events = 5;
        await storage.WriteStateAsync("session", grain, first); // the etag moves on

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("session", grain, stale));

        var read = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, read);
        Assert.Equal(5, read.State!.Events);
    }

    [Fact(Timeout = 60_000)]
    public async Task StateOfTheEarlierHashFormIsTakenOverOnceAndItsHashDeleted()
    {
        await using var storage = NewStorage();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        var db = redis.GetDatabase();
        var grain = User("legacy");
        var legacy = storage.LegacyKey("session", grain);

        // What Orleans' Redis provider wrote: a hash with the etag and the serialized state.
        await db.HashSetAsync(legacy, [new HashEntry("etag", Guid.NewGuid().ToString("N")), new HashEntry("data", JsonSerializer.SerializeToUtf8Bytes(new Counter { Events = 7 }))]);

        var read = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, read);

        Assert.True(read.RecordExists);
        Assert.Equal(7, read.State!.Events);
        Assert.False(await db.KeyExistsAsync(legacy));
        Assert.Equal(RedisType.String, await db.KeyTypeAsync(storage.Key("session", grain)));
        read.State!.Events = 8;
        await storage.WriteStateAsync("session", grain, read); // the etag read with the taken-over state is the stored one
        var again = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, again);
        Assert.Equal(8, again.State!.Events);
    }

    [Fact(Timeout = 60_000)]
    public async Task EarlierStateTheStoreCannotReadIsDroppedInsteadOfFailingEveryActivation()
    {
        await using var storage = NewStorage();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        var db = redis.GetDatabase();
        var grain = User("unreadable");
        var legacy = storage.LegacyKey("session", grain);

        // The store refuses to read it as a hash (here: it is not one), as Garnet refused the object record it could
        // not read back.
        await db.StringSetAsync(legacy, "not a hash");

        var read = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, read);

        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.Events);
        Assert.False(await db.KeyExistsAsync(legacy));
    }

    [Fact(Timeout = 60_000)]
    public async Task AStoredStateThatDoesNotDeserializeIsDroppedInsteadOfFailingEveryActivation()
    {
        await using var storage = NewStorage();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        var db = redis.GetDatabase();
        var grain = User("cut");
        var state = new GrainState<Counter>(new Counter { Events = 4 });
        await storage.WriteStateAsync("session", grain, state);

        // The value's end cut to zeros, as the store's eviction at a stop left one (EmbeddedStoreRecoveryTests).
        var value = (byte[])(await db.StringGetAsync(storage.Key("session", grain)))!;
        Array.Clear(value, value.Length - 8, 8);
        await db.StringSetAsync(storage.Key("session", grain), value);

        var read = new GrainState<Counter>();
        await storage.ReadStateAsync("session", grain, read);

        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.Events);
        Assert.False(await db.KeyExistsAsync(storage.Key("session", grain)));
    }

    public sealed class Counter
    {
        public int Events { get; set; }

        public List<string> Items { get; set; } = [];
    }

    // The provider takes any serializer; the service gives it Orleans' own.
    private sealed class JsonStateSerializer : IGrainStorageSerializer
    {
        public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input));

        public T Deserialize<T>(BinaryData input) => JsonSerializer.Deserialize<T>(input.ToMemory().Span)!;
    }
}

public sealed class GarnetStringGrainStorageTests : StringGrainStorageContract, IAsyncLifetime
{
    private EmbeddedStore _store = null!;

    protected override string ConnectionString => _store.Garnet.ConnectionString;

    public async ValueTask InitializeAsync() => _store = await EmbeddedStore.StartAsync("sessionrec-grainstate-");

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}

public sealed class ClusterStringGrainStorageTests(RedisClusterFixture fixture) : StringGrainStorageContract, IClassFixture<RedisClusterFixture>
{
    protected override string ConnectionString => fixture.Cluster.ConnectionString;
}
