namespace SessionRec.Silo.Snapshots;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

/// <summary>
/// This silo's replicas of one kind of published snapshot, one per served tenant: loaded from the store the first
/// time a tenant is served here, then swapped whole for a newer one — looked for at most every
/// <see cref="Poll"/> in the background, or at once when a builder says it published (<see cref="RefreshAsync"/>).
/// Requests read a replica without a lock: a loaded snapshot is never written. Memory: one copy of each served
/// tenant's snapshot per silo.
/// </summary>
public abstract class SnapshotReplicas<T>(TimeProvider time, ILogger logger)
    where T : class
{
    private readonly ConcurrentDictionary<string, Replica> _tenants = new(StringComparer.Ordinal);

    /// <summary>What a tenant is served before its builder published anything.</summary>
    protected abstract T Empty { get; }

    /// <summary>How often a served replica looks for a newer snapshot.</summary>
    protected abstract TimeSpan Poll { get; }

    /// <summary>What this kind is called in the logs.</summary>
    protected abstract string Kind { get; }

    /// <summary>The log position of the tenant's published snapshot (0: none).</summary>
    protected abstract Task<long> PublishedPositionAsync(string tenant);

    /// <summary>The tenant's published snapshot, or null when there is none.</summary>
    protected abstract Task<(long Position, T Value)?> ReadAsync(string tenant);

    /// <summary>Nothing is published yet for a tenant served here: wake its builder (a new tenant, or data imported while stopped).</summary>
    protected abstract void NothingPublished(string tenant);

    /// <summary>The tenant's newest snapshot this silo has (<see cref="Empty"/> until its builder published one).</summary>
    public async ValueTask<T> GetAsync(string tenant)
    {
        var replica = _tenants.GetOrAdd(tenant, _ => new Replica(Empty));
        if (!replica.Loaded)
        {
            await LoadAsync(tenant, replica, force: false);
        }
        else if (time.GetUtcNow() - replica.CheckedAt >= Poll && replica.TryStartRefresh())
        {
            _ = Task.Run(() => LoadAsync(tenant, replica, force: false));
        }

        return replica.Current.Value;
    }

    /// <summary>The snapshot this silo serves the tenant from, without loading one (null: the tenant is not served here).</summary>
    public T? Peek(string tenant) => _tenants.TryGetValue(tenant, out var replica) && replica.Loaded ? replica.Current.Value : null;

    /// <summary>The log position of the snapshot this silo serves the tenant from (0: none loaded).</summary>
    public long PositionOf(string tenant) => _tenants.TryGetValue(tenant, out var replica) ? replica.Current.Position : 0;

    /// <summary>Loads the newest published snapshot now (a builder published, or erased).</summary>
    public Task RefreshAsync(string tenant) => LoadAsync(tenant, _tenants.GetOrAdd(tenant, _ => new Replica(Empty)), force: true);

    /// <summary>
    /// Loads the newest published snapshot now where this silo has (or is loading) a replica of the tenant; a silo that
    /// never served it holds nothing to replace, and its first load reads the newest anyway.
    /// </summary>
    public Task RefreshIfHeldAsync(string tenant) =>
        _tenants.TryGetValue(tenant, out var replica) ? LoadAsync(tenant, replica, force: true) : Task.CompletedTask;

    private async Task LoadAsync(string tenant, Replica replica, bool force)
    {
        await replica.Gate.WaitAsync();
        try
        {
            if (replica.Loaded && !force && time.GetUtcNow() - replica.CheckedAt < Poll)
            {
                return;
            }

            var position = await PublishedPositionAsync(tenant);
            if (position == 0 && !replica.Loaded)
            {
                NothingPublished(tenant);
            }

            // A forced load also takes a snapshot at the same position: an erasure republishes without moving the log.
            if ((position > replica.Current.Position || (force && position > 0)) && await ReadAsync(tenant) is { } snapshot)
            {
                replica.Current = new Snapshot(snapshot.Position, snapshot.Value);
                SnapshotLog.Loaded(logger, Kind, tenant, snapshot.Position);
            }

            replica.Loaded = true;
            replica.CheckedAt = time.GetUtcNow();
        }
        catch (Exception e) when (Storage.StoreFailures.IsStoreError(e) || e is InvalidDataException or EndOfStreamException)
        {
            // Keep serving what we have; the next poll tries again.
            SnapshotLog.LoadFailed(logger, e, Kind, tenant);
            replica.CheckedAt = time.GetUtcNow();
            if (force)
            {
                throw;
            }
        }
        finally
        {
            replica.Refreshing = 0;
            replica.Gate.Release();
        }
    }

    private sealed record Snapshot(long Position, T Value);

    private sealed class Replica(T empty)
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public volatile Snapshot Current = new(0, empty);
        public volatile bool Loaded;
        public DateTimeOffset CheckedAt = DateTimeOffset.MinValue;
        public int Refreshing;

        public bool TryStartRefresh() => Interlocked.CompareExchange(ref Refreshing, 1, 0) == 0;
    }
}

internal static partial class SnapshotLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Tenant {Tenant}: {Kind} snapshot at log position {Position} loaded")]
    public static partial void Loaded(ILogger logger, string kind, string tenant, long position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: the {Kind} snapshot could not be loaded; the previous one keeps serving")]
    public static partial void LoadFailed(ILogger logger, Exception exception, string kind, string tenant);
}
