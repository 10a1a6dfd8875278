namespace SessionRec.Abstractions.Knowledge;

using Orleans.Concurrency;
using SessionRec.Abstractions.Events;

/// <summary>
/// One tenant's query log: follows the click log's searches, keeps them by user (for k-anonymity and erasure) and
/// publishes what enough distinct users searched as an immutable snapshot that every silo's replica serves
/// suggestions from; also the tenant's blocklist. Nothing on a suggestion request calls it (with an LLM
/// configured, the API asks it to filter the LLM's texts).
/// </summary>
[Alias("SessionRec.ISuggestionGrain")]
public interface ISuggestionGrain : IGrainWithStringKey
{
    /// <summary>The log has records up to <paramref name="lastSequence"/>: read them now rather than at the next tick.</summary>
    [Alias("LogAdvancedAsync"), OneWay]
    Task LogAdvancedAsync(long lastSequence);

    /// <summary>Reads the log to its end and publishes a snapshot now; returns the log position it covers.</summary>
    [Alias("CatchUpAsync")]
    Task<long> CatchUpAsync();

    /// <summary>The next step of reading the click log (the grain asks itself while it is behind).</summary>
    [Alias("ContinueCatchUpAsync"), OneWay]
    Task ContinueCatchUpAsync();

    /// <summary>
    /// Takes the user's searches out of the query log, republishes, and has every silo's replica load the new
    /// snapshot before answering (erasure); true when the stored checkpoint no longer names the user.
    /// </summary>
    [Alias("ForgetUserAsync")]
    Task<bool> ForgetUserAsync(string userId);

    [Alias("GetBlocklistAsync")]
    Task<BlocklistView> GetBlocklistAsync();

    /// <summary>Replaces the tenant's blocklist (stored, then applied by every silo before answering); returns it as stored.</summary>
    [Alias("SetBlocklistAsync")]
    Task<BlocklistView> SetBlocklistAsync(BlocklistView blocklist);

    /// <summary>The texts the blocklist lets through, in order (for suggestions made outside the pipeline: the LLM's).</summary>
    [Alias("AllowedAsync")]
    Task<IReadOnlyList<string>> AllowedAsync(IReadOnlyList<string> texts);
}

/// <summary>
/// One user's entity-centric knowledge store: folded as the user's events arrive (the session grain hands them
/// over, one-way), caught up from the click log when it finds it missed some, persisted, erasable.
/// </summary>
[Alias("SessionRec.IUserKnowledgeGrain")]
public interface IUserKnowledgeGrain : IGrainWithStringKey
{
    /// <summary>The store, current with the click log (the user's records after it are folded first).</summary>
    [Alias("GetAsync")]
    Task<UserKnowledgeView> GetAsync();

    /// <summary>
    /// Folds the user's new records; <paramref name="after"/> is the sequence of the user's record before them, so
    /// a gap (a hand-over lost) is noticed and read from the log instead. The lists are the caller's, never changed
    /// after the call ([Immutable]: a call within a silo does not copy them).
    /// </summary>
    [Alias("FoldAsync"), OneWay]
    Task FoldAsync(long after, [Immutable] IReadOnlyList<UserEvent> events, [Immutable] IReadOnlyList<long> sequences);

    /// <summary>
    /// Suggestions for the user from this silo's replicas, personalised by the store (current with the log at least up
    /// to <paramref name="appliedThrough"/>, the user's session grain's position).
    /// </summary>
    [Alias("SuggestAsync")]
    Task<SuggestionList> SuggestAsync(SuggestionRequest request, long appliedThrough);

    [Alias("EraseAsync")]
    Task EraseAsync();
}
