namespace SessionRec.Silo.Statistics;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Statistics;
using SessionRec.Models.Baseline;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Snapshots;

/// <summary>
/// This silo's replicas of the tenants' published statistics snapshots (co-occurrence, item-kNN, popularity),
/// looked for every <see cref="RecommenderOptions.SnapshotPoll"/>. Memory: one copy of each served tenant's
/// statistics per silo.
/// </summary>
public sealed class StatisticsReplicas(
    StatisticsSnapshotStore store,
    IGrainFactory grains,
    IOptions<RecommenderOptions> options,
    TimeProvider time,
    ILogger<StatisticsReplicas> logger) : SnapshotReplicas<InteractionStatistics>(time, logger)
{
    protected override InteractionStatistics Empty { get; } = new(options.Value.PopularityHalfLife);

    protected override TimeSpan Poll => options.Value.SnapshotPoll;

    protected override string Kind => "statistics";

    protected override Task<long> PublishedPositionAsync(string tenant) => store.PositionAsync(tenant);

    protected override async Task<(long Position, InteractionStatistics Value)?> ReadAsync(string tenant) =>
        await store.ReadSnapshotAsync(tenant) is { } found ? (found.Position.Total, found.Value) : null;

    protected override void NothingPublished(string tenant) =>
        _ = grains.GetGrain<IStatisticsBuilderGrain>(tenant).LogAdvancedAsync(long.MaxValue);
}
