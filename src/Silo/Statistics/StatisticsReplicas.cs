namespace SessionRec.Silo.Statistics;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Statistics;
using SessionRec.Models.Baseline;
using SessionRec.Silo.Catalogue;

/// <summary>
/// This silo's replicas of the tenants' published statistics snapshots. A replica is loaded from the store the
/// first time a tenant is served here and then swapped whole for a newer snapshot, looked for at most every
/// <see cref="RecommenderOptions.SnapshotPoll"/> in the background; requests read it without a lock (a loaded
/// snapshot is never written). Memory: one copy of each served tenant's statistics per silo.
/// </summary>
public sealed partial class StatisticsReplicas(
    StatisticsSnapshotStore store,
    IGrainFactory grains,
    IOptions<RecommenderOptions> options,
    TimeProvider time,
    ILogger<StatisticsReplicas> logger)
{
    private readonly ConcurrentDictionary<string, Replica> _tenants = new(StringComparer.Ordinal);
    private readonly RecommenderOptions _options = options.Value;

    /// <summary>The tenant's newest statistics this silo has (empty until the builder published one).</summary>
    public async ValueTask<InteractionStatistics> GetAsync(string tenant)
    {
        var replica = _tenants.GetOrAdd(tenant, _ => new Replica(new InteractionStatistics(_options.PopularityHalfLife)));
        if (!replica.Loaded)
        {
            await LoadAsync(tenant, replica, force: false);
        }
        else if (time.GetUtcNow() - replica.CheckedAt >= _options.SnapshotPoll && replica.TryStartRefresh())
        {
            _ = Task.Run(() => LoadAsync(tenant, replica, force: false));
        }

        return replica.Current.Statistics;
    }

    /// <summary>The log position of the snapshot this silo serves the tenant from (0: none loaded).</summary>
    public long PositionOf(string tenant) => _tenants.TryGetValue(tenant, out var replica) ? replica.Current.Position : 0;

    /// <summary>Loads the newest published snapshot now (after a caller made the builder publish).</summary>
    public Task RefreshAsync(string tenant) =>
        LoadAsync(tenant, _tenants.GetOrAdd(tenant, _ => new Replica(new InteractionStatistics(_options.PopularityHalfLife))), force: true);

    private async Task LoadAsync(string tenant, Replica replica, bool force)
    {
        await replica.Gate.WaitAsync();
        try
        {
            if (replica.Loaded && !force && time.GetUtcNow() - replica.CheckedAt < _options.SnapshotPoll)
            {
                return;
            }

            var position = await store.PositionAsync(tenant);
            if (position == 0 && !replica.Loaded)
            {
                // Nothing published yet (a new tenant, or data imported while the service was stopped): wake the
                // builder, which reads the log and publishes.
                _ = grains.GetGrain<IStatisticsBuilderGrain>(tenant).LogAdvancedAsync(long.MaxValue);
            }

            if (position > replica.Current.Position && await store.ReadSnapshotAsync(tenant) is { } snapshot)
            {
                replica.Current = new Snapshot(snapshot.Position, snapshot.Statistics);
                LogLoaded(logger, tenant, snapshot.Position, snapshot.Statistics.ItemCount);
            }

            replica.Loaded = true;
            replica.CheckedAt = time.GetUtcNow();
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or InvalidDataException or EndOfStreamException)
        {
            // Keep serving what we have; the next poll tries again.
            LogLoadFailed(logger, e, tenant);
            replica.CheckedAt = time.GetUtcNow();
        }
        finally
        {
            replica.Refreshing = 0;
            replica.Gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tenant {Tenant}: statistics snapshot at log position {Position} loaded ({Items} items)")]
    private static partial void LogLoaded(ILogger logger, string tenant, long position, int items);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: the statistics snapshot could not be loaded; the previous one keeps serving")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string tenant);

    private sealed record Snapshot(long Position, InteractionStatistics Statistics);

    private sealed class Replica(InteractionStatistics empty)
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public volatile Snapshot Current = new(0, empty);
        public volatile bool Loaded;
        public DateTimeOffset CheckedAt = DateTimeOffset.MinValue;
        public int Refreshing;

        public bool TryStartRefresh() => Interlocked.CompareExchange(ref Refreshing, 1, 0) == 0;
    }
}
