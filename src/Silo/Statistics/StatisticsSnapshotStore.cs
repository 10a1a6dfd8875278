namespace SessionRec.Silo.Statistics;

using SessionRec.Models.Baseline;
using SessionRec.Silo.Snapshots;
using SessionRec.Silo.Storage;

/// <summary>
/// A tenant's statistics snapshots in the shared <see cref="SnapshotStore"/>: the published snapshot (the statistics
/// and the log position they cover) that every silo's replica loads, and the builder's checkpoint of live sessions.
/// </summary>
public sealed class StatisticsSnapshotStore(SnapshotStore store)
{
    public static SnapshotKeys Keys(string tenant) =>
        new(RedisKeys.StatisticsSnapshot(tenant), RedisKeys.StatisticsPosition(tenant), RedisKeys.StatisticsSessions(tenant));

    public Task PublishAsync(string tenant, long position, InteractionStatistics statistics, LiveSessions sessions) =>
        store.PublishAsync(Keys(tenant), position, statistics.WriteTo, sessions.WriteTo);

    /// <summary>Rewrites only the live sessions (an erased user's must leave the store at once).</summary>
    public Task WriteSessionsAsync(string tenant, long position, LiveSessions sessions) =>
        store.WriteCheckpointAsync(Keys(tenant), position, sessions.WriteTo);

    /// <summary>The log position the published snapshot covers; 0 when there is none.</summary>
    public Task<long> PositionAsync(string tenant) => store.PositionAsync(Keys(tenant));

    /// <summary>The published snapshot, or null when there is none yet.</summary>
    public Task<(long Position, InteractionStatistics Value)?> ReadSnapshotAsync(string tenant) =>
        store.ReadPublishedAsync(Keys(tenant), InteractionStatistics.ReadFrom);

    /// <summary>Loads the live sessions into <paramref name="sessions"/>; the position they were written at, or null.</summary>
    public async Task<long?> ReadSessionsAsync(string tenant, LiveSessions sessions) =>
        (await store.ReadCheckpointAsync(Keys(tenant), reader =>
        {
            sessions.ReadFrom(reader);
            return true;
        }))?.Position;

    /// <summary>Whether the stored live sessions name the user (erasure's proof reads the store, not the grain).</summary>
    public async Task<bool> HoldsUserAsync(string tenant, string userId)
    {
        var sessions = new LiveSessions(TimeSpan.MaxValue, memory: 64, maxTracked: int.MaxValue);
        return await ReadSessionsAsync(tenant, sessions) is not null && sessions.Holds(userId);
    }
}
