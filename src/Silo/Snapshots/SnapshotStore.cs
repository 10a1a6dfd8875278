namespace SessionRec.Silo.Snapshots;

using System.Collections.Concurrent;
using SessionRec.Abstractions.ClickLog;
using StackExchange.Redis;

/// <summary>Where one kind of a tenant's snapshot lives: what replicas load, the log position it covers, and the builder's checkpoint.</summary>
public sealed record SnapshotKeys(RedisKey Published, RedisKey Position, RedisKey Checkpoint);

/// <summary>
/// The store side of the snapshot mechanism every builder and replica share (statistics, query logs): a builder
/// publishes an immutable snapshot together with its own checkpoint in one transaction, replicas poll the position
/// (its <see cref="LogPosition.Total"/>, which grows with every record read) and load the snapshot when it moved. Each
/// value is prefixed with the log position it covers (<see cref="LogPosition.WriteTo"/>).
/// </summary>
public sealed class SnapshotStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <param name="alongside">More writes of the builder's to commit in the same transaction (keys of the same tenant).</param>
    public async Task PublishAsync(SnapshotKeys keys, LogPosition position, Action<BinaryWriter> published, Action<BinaryWriter> checkpoint, Action<ITransaction>? alongside = null)
    {
        var snapshot = Serialize(keys.Published, position, published);
        var state = Serialize(keys.Checkpoint, position, checkpoint);
        var transaction = Db.CreateTransaction();
        alongside?.Invoke(transaction);
        _ = transaction.StringSetAsync(keys.Published, snapshot);
        _ = transaction.StringSetAsync(keys.Checkpoint, state);
        _ = transaction.StringSetAsync(keys.Position, position.Total);
        await transaction.ExecuteAsync();
    }

    /// <summary>Rewrites only the checkpoint (an erased user's data must leave the store at once).</summary>
    public Task WriteCheckpointAsync(SnapshotKeys keys, LogPosition position, Action<BinaryWriter> checkpoint) =>
        Db.StringSetAsync(keys.Checkpoint, Serialize(keys.Checkpoint, position, checkpoint));

    /// <summary>The log position the published snapshot covers, as its total; 0 when there is none.</summary>
    public async Task<long> PositionAsync(SnapshotKeys keys) => (long?)await Db.StringGetAsync(keys.Position) ?? 0;

    /// <summary>The published snapshot, or null when there is none yet.</summary>
    public Task<(LogPosition Position, T Value)?> ReadPublishedAsync<T>(SnapshotKeys keys, Func<BinaryReader, T> read) => ReadAsync(keys.Published, read);

    /// <summary>The builder's checkpoint, or null when there is none yet.</summary>
    public Task<(LogPosition Position, T Value)?> ReadCheckpointAsync<T>(SnapshotKeys keys, Func<BinaryReader, T> read) => ReadAsync(keys.Checkpoint, read);

    private async Task<(LogPosition Position, T Value)?> ReadAsync<T>(RedisKey key, Func<BinaryReader, T> read)
    {
        var bytes = (byte[]?)await Db.StringGetAsync(key);
        if (bytes is null)
        {
            return null;
        }

        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        var position = LogPosition.ReadFrom(reader);
        return (position, read(reader));
    }

    // The size each key's value had when last written: a snapshot is written about as large as its predecessor,
    // so its buffer is made that large at once and handed to the store as it is. Grown by doubling, then copied
    // out, a snapshot of N bytes cost about 4N of large-object allocations (Beauty's statistics: 18 MB, every
    // publish); it costs N now.
    private readonly ConcurrentDictionary<string, int> _lastSize = new(StringComparer.Ordinal);

    private ReadOnlyMemory<byte> Serialize(RedisKey key, LogPosition position, Action<BinaryWriter> write)
    {
        var name = key.ToString();
        var stream = new MemoryStream(_lastSize.TryGetValue(name, out var size) ? size + (size / 16) : 0);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            position.WriteTo(writer);
            write(writer);
        }

        _lastSize[name] = (int)stream.Length;
        return stream.GetBuffer().AsMemory(0, (int)stream.Length);
    }
}
