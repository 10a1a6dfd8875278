namespace SessionRec.Silo.Catalogue;

using Orleans.Concurrency;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.Statistics;
using SessionRec.Silo.Replicas;

/// <summary>
/// A tenant's catalogue writes: items go to <see cref="RedisCatalogueStore"/> and its change feed, then to every
/// silo's replica (<see cref="ReplicaFanOut"/>) before the writer gets its answer, so the next recommendation on any
/// silo sees them. It holds nothing in memory: recommendations are served from the replicas
/// (<see cref="Recommendations.RecommenderGrain"/>), item reads from the store.
/// Reentrant: holding no state, it lets a write start while another waits for the replicas (up to
/// <see cref="ReplicaFanOut.Timeout"/> per silo, longer while a replica saves its catalogue or builds its index on a
/// busy silo). One at a time, writes queued behind those waits until the caller's response timeout (5 s) answered
/// 503 during a large import. Each write's store script is issued in the order the writes arrive (before its first
/// await), and a replica takes changes up to the newest version whatever order the notices come in.
/// </summary>
[Reentrant]
public sealed class CatalogueGrain(RedisCatalogueStore store, ReplicaFanOut replicas) : Grain, ICatalogueGrain
{
    private string Tenant => this.GetPrimaryKeyString();

    public async Task<int> UpsertAsync(IReadOnlyList<CatalogueItem> items)
    {
        var version = await store.SaveAsync(Tenant, items);
        await replicas.CatalogueChangedAsync(Tenant, version);
        return items.Count;
    }

    public Task<CatalogueItem?> GetAsync(string itemId) => store.GetAsync(Tenant, itemId);

    public async Task<bool> DeleteAsync(string itemId)
    {
        var (removed, version) = await store.DeleteAsync(Tenant, itemId);
        await replicas.CatalogueChangedAsync(Tenant, version);
        return removed;
    }

    public async Task<int> CountAsync() => (int)await store.CountAsync(Tenant);

    public async Task<long> CatchUpAsync()
    {
        var position = await GrainFactory.GetGrain<IStatisticsBuilderGrain>(Tenant).CatchUpAsync();
        await replicas.StatisticsPublishedAsync(Tenant);
        return position;
    }
}
