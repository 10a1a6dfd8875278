namespace SessionRec.Silo.Snapshots;

using StackExchange.Redis;

/// <summary>Where one kind of a tenant's snapshot lives: what replicas load, the log position it covers, and the builder's checkpoint.</summary>
public sealed record SnapshotKeys(RedisKey Published, RedisKey Position, RedisKey Checkpoint);

/// <summary>
/// The store side of the snapshot mechanism every builder and replica share (statistics, query logs): a builder
/// publishes an immutable snapshot together with its own checkpoint in one transaction, replicas poll the position
/// and load the snapshot when it moved. Each value is prefixed with the log position it covers.
/// </summary>
public sealed class SnapshotStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    public async Task PublishAsync(SnapshotKeys keys, long position, Action<BinaryWriter> published, Action<BinaryWriter> checkpoint)
    {
        var snapshot = Serialize(position, published);
        var state = Serialize(position, checkpoint);
        var transaction = Db.CreateTransaction();
        _ = transaction.StringSetAsync(keys.Published, snapshot);
        _ = transaction.StringSetAsync(keys.Checkpoint, state);
        _ = transaction.StringSetAsync(keys.Position, position);
        await transaction.ExecuteAsync();
    }

    /// <summary>Rewrites only the checkpoint (an erased user's data must leave the store at once).</summary>
    public Task WriteCheckpointAsync(SnapshotKeys keys, long position, Action<BinaryWriter> checkpoint) =>
        Db.StringSetAsync(keys.Checkpoint, Serialize(position, checkpoint));

    /// <summary>The log position the published snapshot covers; 0 when there is none.</summary>
    public async Task<long> PositionAsync(SnapshotKeys keys) => (long?)await Db.StringGetAsync(keys.Position) ?? 0;

    /// <summary>The published snapshot, or null when there is none yet.</summary>
    public Task<(long Position, T Value)?> ReadPublishedAsync<T>(SnapshotKeys keys, Func<BinaryReader, T> read) => ReadAsync(keys.Published, read);

    /// <summary>The builder's checkpoint, or null when there is none yet.</summary>
    public Task<(long Position, T Value)?> ReadCheckpointAsync<T>(SnapshotKeys keys, Func<BinaryReader, T> read) => ReadAsync(keys.Checkpoint, read);

    private async Task<(long Position, T Value)?> ReadAsync<T>(RedisKey key, Func<BinaryReader, T> read)
    {
        var bytes = (byte[]?)await Db.StringGetAsync(key);
        if (bytes is null)
        {
            return null;
        }

        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        var position = reader.ReadInt64();
        return (position, read(reader));
    }

    private static byte[] Serialize(long position, Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(position);
            write(writer);
        }

        return stream.ToArray();
    }
}
