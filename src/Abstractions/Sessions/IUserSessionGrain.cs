namespace SessionRec.Abstractions.Sessions;

using Orleans.Concurrency;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Recommendations;

/// <summary>The live session and recent sessions of one user; keyed by <see cref="TenantKey.For"/>.</summary>
[Alias("SessionRec.IUserSessionGrain")]
public interface IUserSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies events in timestamp order; event ids seen before are skipped (retries are safe).
    /// <paramref name="sequences"/> are the events' click-log sequence numbers (same order).
    /// </summary>
    [Alias("RecordAsync")]
    Task<RecordResult> RecordAsync(IReadOnlyList<UserEvent> events, IReadOnlyList<long> sequences);

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

    /// <summary>Forgets everything about the user and removes the stored state.</summary>
    [Alias("EraseAsync")]
    Task EraseAsync();
}
