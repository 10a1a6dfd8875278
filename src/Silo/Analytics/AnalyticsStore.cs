namespace SessionRec.Silo.Analytics;

using SessionRec.Abstractions.ClickLog;
using SessionRec.Analytics.Aggregates;
using SessionRec.Silo.Snapshots;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// A tenant's session analytics in the store: the published aggregates and the open sessions (one snapshot and its
/// checkpoint in the shared <see cref="SnapshotStore"/>), and per user the digests of their sessions in the
/// aggregates — written in the same transaction as the aggregates that include them, so that erasure subtracts
/// exactly what was added.
/// </summary>
public sealed class AnalyticsStore(SnapshotStore store, IConnectionMultiplexer redis)
{
    public static SnapshotKeys Keys(string tenant) =>
        new(RedisKeys.AnalyticsSnapshot(tenant), RedisKeys.AnalyticsPosition(tenant), RedisKeys.AnalyticsCheckpoint(tenant));

    public Task PublishAsync(
        string tenant, LogPosition position, SessionAggregates aggregates, OpenSessions open, IReadOnlyCollection<SessionDigest> added, TimeSpan digestLifetime,
        string? erasedUser = null) =>
        store.PublishAsync(Keys(tenant), position, aggregates.WriteTo, open.WriteTo, transaction =>
        {
            if (erasedUser is not null)
            {
                _ = transaction.KeyDeleteAsync(RedisKeys.AnalyticsUser(tenant, erasedUser));
            }

            foreach (var user in added.GroupBy(d => d.UserId, StringComparer.Ordinal))
            {
                var key = RedisKeys.AnalyticsUser(tenant, user.Key);
                _ = transaction.HashSetAsync(key, [.. user.Select(d => new HashEntry(d.FirstSequence, d.ToBytes()))]);
                _ = transaction.KeyExpireAsync(key, digestLifetime);
            }
        });

    public async Task<(LogPosition Position, SessionAggregates Aggregates, OpenSessions Open)?> ReadAsync(
        string tenant, IReadOnlyList<string> metrics, AnalyticsOptions options, Func<OpenSessions> newOpen)
    {
        var published = await store.ReadPublishedAsync(Keys(tenant), reader =>
            SessionAggregates.ReadFrom(reader, metrics, options.WorstPerCell, options.WorstDays, options.RetentionDays));
        if (published is not { Value: { } aggregates } found)
        {
            return null;
        }

        var open = newOpen();
        var checkpoint = await store.ReadCheckpointAsync(Keys(tenant), reader =>
        {
            open.ReadFrom(reader);
            return true;
        });
        return found.Position.Equals(checkpoint?.Position) ? (found.Position, aggregates, open) : null;
    }

    /// <summary>The digests of the user's sessions in the published aggregates.</summary>
    public async Task<List<SessionDigest>> DigestsAsync(string tenant, string userId) =>
        [.. (await redis.GetDatabase().HashValuesAsync(RedisKeys.AnalyticsUser(tenant, userId))).Select(v => SessionDigest.FromBytes((byte[])v!))];

    /// <summary>
    /// Whether the store still names the user: their digests, an open session in the checkpoint, or a worst-sessions
    /// entry in the published aggregates (erasure's proof reads the store, not the grain).
    /// </summary>
    public async Task<bool> HoldsUserAsync(string tenant, string userId, IReadOnlyList<string> metrics, Func<OpenSessions> newOpen)
    {
        if (await redis.GetDatabase().KeyExistsAsync(RedisKeys.AnalyticsUser(tenant, userId)))
        {
            return true;
        }

        var open = await store.ReadCheckpointAsync(Keys(tenant), reader =>
        {
            var sessions = newOpen();
            sessions.ReadFrom(reader);
            return sessions.Holds(userId);
        });
        var published = await store.ReadPublishedAsync(Keys(tenant), reader => SessionAggregates.ReadFrom(reader, metrics)?.Names(userId) == true);
        return open?.Value == true || published?.Value == true;
    }
}
