namespace SessionRec.Abstractions.Catalogue;

using Orleans.Concurrency;
using SessionRec.Abstractions.Recommendations;

/// <summary>
/// One tenant's catalogue and the interaction statistics the baseline recommender learns from it.
/// Items are written through to the catalogue store; statistics are rebuilt from the click log on activation
/// and then follow the log's tail, so the log stays the single source of truth.
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
    /// Tells the grain that the log has records up to <paramref name="lastSequence"/>, so it reads them now rather
    /// than at its next tail tick (a user's next request then sees what they just did). Cheap when already read.
    /// </summary>
    [Alias("LogAdvancedAsync"), OneWay]
    Task LogAdvancedAsync(long lastSequence);

    /// <summary>Reads the click log up to its end now, so the statistics include every logged event.</summary>
    [Alias("CatchUpAsync")]
    Task<long> CatchUpAsync();

    /// <summary>The next step of reading the click log (the grain asks itself while it is behind).</summary>
    [Alias("ContinueCatchUpAsync"), OneWay]
    Task ContinueCatchUpAsync();

    /// <summary>Drops what the statistics keep about one user (their live-session memory); aggregates stay.</summary>
    [Alias("ForgetUserAsync")]
    Task ForgetUserAsync(string userId);

    [Alias("RecommendAsync"), ReadOnly]
    Task<RecommendationList> RecommendAsync(RecommendationRequest request);
}
