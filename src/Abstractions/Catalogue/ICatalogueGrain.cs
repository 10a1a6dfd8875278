namespace SessionRec.Abstractions.Catalogue;

using Orleans.Concurrency;

/// <summary>
/// One tenant's catalogue writes. Items are written through to the catalogue store and reach every silo's replica
/// before a write answers; recommendations are served from those replicas (<see cref="Recommendations.IRecommenderGrain"/>).
/// </summary>
[Alias("SessionRec.ICatalogueGrain")]
public interface ICatalogueGrain : IGrainWithStringKey
{
    [Alias("UpsertAsync")]
    Task<int> UpsertAsync(IReadOnlyList<CatalogueItem> items);

    [Alias("GetAsync"), ReadOnly]
    Task<CatalogueItem?> GetAsync(string itemId);

    [Alias("DeleteAsync")]
    Task<bool> DeleteAsync(string itemId);

    [Alias("CountAsync"), ReadOnly]
    Task<int> CountAsync();

    /// <summary>
    /// Makes the tenant's statistics builder read the click log to its end and publish, and every silo's replica
    /// load that snapshot: the next recommendation counts every logged event. For tests and imports; serving never waits.
    /// </summary>
    [Alias("CatchUpAsync")]
    Task<long> CatchUpAsync();
}
