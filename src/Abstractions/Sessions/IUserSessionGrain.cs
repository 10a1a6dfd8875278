namespace SessionRec.Abstractions.Sessions;

using Orleans.Concurrency;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Abstractions.Recommendations;

/// <summary>The live session and recent sessions of one user; keyed by <see cref="TenantKey.For"/>.</summary>
[Alias("SessionRec.IUserSessionGrain")]
public interface IUserSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies events in timestamp order; event ids seen before are skipped (retries are safe).
    /// <paramref name="sequences"/> are the events' click-log sequence numbers (same order). The lists are the
    /// caller's, never changed after the call ([Immutable]: a call within a silo does not copy them; measured, the
    /// copies were 5% of what ingesting a batch allocated).
    /// </summary>
    [Alias("RecordAsync")]
    Task<RecordResult> RecordAsync([Immutable] IReadOnlyList<UserEvent> events, [Immutable] IReadOnlyList<long> sequences);

    [Alias("GetAsync")]
    Task<UserSessionView> GetAsync();

    [Alias("GetContextAsync")]
    Task<SessionContext> GetContextAsync();

    /// <summary>
    /// Recommendations for the live session: one call from the API. The grain asks the tenant's recommender with
    /// the session's items, excludes its purchases, and keeps the multi-round state of the answer for the next
    /// "more" request (in memory only).
    /// </summary>
    [Alias("RecommendAsync")]
    Task<SessionRecommendations> RecommendAsync(SessionRecommendationRequest request);

    /// <summary>
    /// Query suggestions for the user: one call from the API. The grain adds the live session's queries and asks the
    /// user's knowledge grain, which personalises them from this silo's suggestion replicas.
    /// </summary>
    [Alias("SuggestAsync")]
    Task<SessionSuggestions> SuggestAsync(SuggestionRequest request);

    /// <summary>Forgets everything about the user and removes the stored state.</summary>
    [Alias("EraseAsync")]
    Task EraseAsync();
}

/// <summary>The suggestions, and the live session they were made for (its id and queries: the impression and an LLM prompt need them).</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SessionSuggestions")]
public sealed record SessionSuggestions(
    [property: Id(0)] SuggestionList List,
    [property: Id(1)] string? SessionId,
    [property: Id(2)] IReadOnlyList<string> SessionQueries);
