namespace SessionRec.Abstractions.Catalogue;

using Orleans.Concurrency;
using SessionRec.Abstractions.Recommendations;

/// <summary>
/// One tenant's catalogue and its recommendations. Items are written through to the catalogue store; the
/// statistics the rankers use come from the snapshots the tenant's statistics builder publishes from the click log.
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
    /// Makes the tenant's statistics builder read the click log to its end and publish, and this silo's replica load
    /// that snapshot: the next recommendation counts every logged event. For tests and imports; serving never waits.
    /// </summary>
    [Alias("CatchUpAsync")]
    Task<long> CatchUpAsync();

    [Alias("RecommendAsync"), ReadOnly]
    Task<RecommendationList> RecommendAsync(RecommendationRequest request);
}
