namespace SessionRec.Abstractions.Knowledge;

using Orleans.Concurrency;
using SessionRec.Abstractions.Catalogue;

/// <summary>
/// One tenant's knowledge graph (from its catalogue) and query log (from the click log's searches), and the
/// suggestion pipeline over them. Rebuilt on activation from the catalogue store and the click log, then kept
/// current: item changes are pushed by the catalogue grain, searches are read from the log's tail.
/// </summary>
[Alias("SessionRec.ISuggestionGrain")]
public interface ISuggestionGrain : IGrainWithStringKey
{
    [Alias("SuggestAsync")]
    Task<SuggestionList> SuggestAsync(SuggestionRequest request);

    /// <summary>Links texts and items to the graph's entities (what a user's knowledge store records).</summary>
    [Alias("DescribeAsync")]
    Task<IReadOnlyList<Description>> DescribeAsync(IReadOnlyList<DescribeInput> inputs);

    [Alias("ItemsChangedAsync"), OneWay]
    Task ItemsChangedAsync(IReadOnlyList<CatalogueItem> items);

    [Alias("ItemRemovedAsync"), OneWay]
    Task ItemRemovedAsync(string itemId);

    /// <summary>Takes the user's searches out of the shared query log now (erasure); true when none is left.</summary>
    [Alias("ForgetUserAsync")]
    Task<bool> ForgetUserAsync(string userId);

    /// <summary>The next step of reading the click log (the grain asks itself while it is behind).</summary>
    [Alias("ContinueCatchUpAsync"), OneWay]
    Task ContinueCatchUpAsync();

    [Alias("GetBlocklistAsync")]
    Task<BlocklistView> GetBlocklistAsync();

    /// <summary>Replaces the tenant's blocklist (stored, then applied to the next request); returns it as stored.</summary>
    [Alias("SetBlocklistAsync")]
    Task<BlocklistView> SetBlocklistAsync(BlocklistView blocklist);

    /// <summary>The texts the blocklist lets through, in order (for suggestions made outside the grain: the LLM's).</summary>
    [Alias("AllowedAsync")]
    Task<IReadOnlyList<string>> AllowedAsync(IReadOnlyList<string> texts);
}

/// <summary>
/// One user's entity-centric knowledge store: built from the user's click-log records (replayed after the
/// stored state on every read, so it is current without a call on the ingestion path), persisted, erasable.
/// </summary>
[Alias("SessionRec.IUserKnowledgeGrain")]
public interface IUserKnowledgeGrain : IGrainWithStringKey
{
    [Alias("GetAsync")]
    Task<UserKnowledgeView> GetAsync();

    [Alias("EraseAsync")]
    Task EraseAsync();
}
