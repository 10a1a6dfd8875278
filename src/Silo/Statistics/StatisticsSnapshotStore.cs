namespace SessionRec.Silo.Statistics;

using SessionRec.Models.Baseline;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// Where a tenant's statistics snapshots live: the published snapshot (the statistics and the log position they
/// cover) that every silo's replica loads, and the builder's checkpoint of live sessions, written together.
/// </summary>
public sealed class StatisticsSnapshotStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    public async Task PublishAsync(string tenant, long position, InteractionStatistics statistics, LiveSessions sessions)
    {
        var snapshot = Serialize(position, statistics.WriteTo);
        var live = Serialize(position, sessions.WriteTo);
        var transaction = Db.CreateTransaction();
        _ = transaction.StringSetAsync(RedisKeys.StatisticsSnapshot(tenant), snapshot);
        _ = transaction.StringSetAsync(RedisKeys.StatisticsSessions(tenant), live);
        _ = transaction.StringSetAsync(RedisKeys.StatisticsPosition(tenant), position);
        await transaction.ExecuteAsync();
    }

    /// <summary>Rewrites only the live sessions (an erased user's must leave the store at once).</summary>
    public Task WriteSessionsAsync(string tenant, long position, LiveSessions sessions) =>
        Db.StringSetAsync(RedisKeys.StatisticsSessions(tenant), Serialize(position, sessions.WriteTo));

    /// <summary>The log position the published snapshot covers; 0 when there is none.</summary>
    public async Task<long> PositionAsync(string tenant) => (long?)await Db.StringGetAsync(RedisKeys.StatisticsPosition(tenant)) ?? 0;

    /// <summary>The published snapshot, or null when there is none yet.</summary>
    public async Task<(long Position, InteractionStatistics Statistics)?> ReadSnapshotAsync(string tenant)
    {
        var bytes = (byte[]?)await Db.StringGetAsync(RedisKeys.StatisticsSnapshot(tenant));
        if (bytes is null)
        {
            return null;
        }

        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        var position = reader.ReadInt64();
        return (position, InteractionStatistics.ReadFrom(reader));
    }

    /// <summary>Loads the live sessions into <paramref name="sessions"/>; the position they were written at, or null.</summary>
    public async Task<long?> ReadSessionsAsync(string tenant, LiveSessions sessions)
    {
        var bytes = (byte[]?)await Db.StringGetAsync(RedisKeys.StatisticsSessions(tenant));
        if (bytes is null)
        {
            return null;
        }

        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        var position = reader.ReadInt64();
        sessions.ReadFrom(reader);
        return position;
    }

    /// <summary>Whether the stored live sessions name the user (erasure's proof reads the store, not the grain).</summary>
    public async Task<bool> HoldsUserAsync(string tenant, string userId)
    {
        var sessions = new LiveSessions(TimeSpan.MaxValue, memory: 64, maxTracked: int.MaxValue);
        return await ReadSessionsAsync(tenant, sessions) is not null && sessions.Holds(userId);
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
