namespace SessionRec.Silo.Statistics;

using SessionRec.Abstractions.ClickLog;
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

    public Task PublishAsync(string tenant, LogPosition position, InteractionStatistics statistics, LiveSessions sessions) =>
        store.PublishAsync(Keys(tenant), position, statistics.WriteTo, writer => WriteCheckpoint(writer, sessions, statistics.Neighbours));

    /// <summary>Rewrites only the checkpoint (an erased user's live session must leave the store at once).</summary>
    public Task WriteSessionsAsync(string tenant, LogPosition position, LiveSessions sessions, SessionNeighbours neighbours) =>
        store.WriteCheckpointAsync(Keys(tenant), position, writer => WriteCheckpoint(writer, sessions, neighbours));

    /// <summary>The log position the published snapshot covers; 0 when there is none.</summary>
    public Task<long> PositionAsync(string tenant) => store.PositionAsync(Keys(tenant));

    /// <summary>The published snapshot, or null when there is none yet.</summary>
    public Task<(LogPosition Position, InteractionStatistics Value)?> ReadSnapshotAsync(string tenant) =>
        store.ReadPublishedAsync(Keys(tenant), InteractionStatistics.ReadFrom);

    /// <summary>
    /// Loads the live sessions into <paramref name="sessions"/> and the owners of the neighbour pool's sessions into
    /// <paramref name="neighbours"/> (when given); the position they were written at, or null.
    /// </summary>
    public async Task<LogPosition?> ReadSessionsAsync(string tenant, LiveSessions sessions, SessionNeighbours? neighbours = null) =>
        (await store.ReadCheckpointAsync(Keys(tenant), reader =>
        {
            sessions.ReadFrom(reader);
            if (neighbours is not null && reader.BaseStream.Position < reader.BaseStream.Length)
            {
                neighbours.ReadOwners(reader);
            }

            return true;
        }))?.Position;

    /// <summary>
    /// Whether the stored checkpoint names the user — a live session, or a session of the neighbour pool (erasure's
    /// proof reads the store, not the grain; the published snapshot names no user).
    /// </summary>
    public async Task<bool> HoldsUserAsync(string tenant, string userId)
    {
        var sessions = new LiveSessions(TimeSpan.MaxValue, memory: 64, maxTracked: int.MaxValue);
        var owners = new HashSet<string>(StringComparer.Ordinal);
        var found = await store.ReadCheckpointAsync(Keys(tenant), reader =>
        {
            sessions.ReadFrom(reader);
            if (reader.BaseStream.Position < reader.BaseStream.Length)
            {
                owners.UnionWith(SessionNeighbours.ReadOwnerNames(reader));
            }

            return true;
        });
        return found is not null && (sessions.Holds(userId) || owners.Contains(userId));
    }

    private static void WriteCheckpoint(BinaryWriter writer, LiveSessions sessions, SessionNeighbours neighbours)
    {
        sessions.WriteTo(writer);
        neighbours.WriteOwners(writer);
    }
}
