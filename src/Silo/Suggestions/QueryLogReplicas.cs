namespace SessionRec.Silo.Suggestions;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Knowledge;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Snapshots;
using SessionRec.Silo.Storage;

/// <summary>
/// This silo's replicas of the tenants' published query-log snapshots (what enough distinct users searched, and
/// what they searched next), looked for every <see cref="RecommenderOptions.SnapshotPoll"/>. Memory: one copy of
/// each served tenant's offered queries per silo.
/// </summary>
public sealed class QueryLogReplicas(
    SnapshotStore store,
    IGrainFactory grains,
    IOptions<RecommenderOptions> options,
    TimeProvider time,
    ILogger<QueryLogReplicas> logger) : SnapshotReplicas<QueryLogSnapshot>(time, logger)
{
    public static SnapshotKeys Keys(string tenant) =>
        new(RedisKeys.QueryLogSnapshot(tenant), RedisKeys.QueryLogPosition(tenant), RedisKeys.QueryLogCheckpoint(tenant));

    protected override QueryLogSnapshot Empty => QueryLogSnapshot.Empty;

    protected override TimeSpan Poll => options.Value.SnapshotPoll;

    protected override string Kind => "query log";

    protected override Task<long> PublishedPositionAsync(string tenant) => store.PositionAsync(Keys(tenant));

    protected override async Task<(long Position, QueryLogSnapshot Value)?> ReadAsync(string tenant) =>
        await store.ReadPublishedAsync(Keys(tenant), QueryLogSnapshot.ReadFrom) is { } found ? (found.Position.Total, found.Value) : null;

    protected override void NothingPublished(string tenant) =>
        _ = grains.GetGrain<ISuggestionGrain>(tenant).LogAdvancedAsync(long.MaxValue);
}
