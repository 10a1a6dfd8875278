namespace SessionRec.Abstractions.Sessions;

using SessionRec.Abstractions.Events;

/// <summary>One event as a session remembers it.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SessionEvent")]
[SuppressReferenceTracking]
public sealed record SessionEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] EventType Type,
    [property: Id(2)] string? ItemId,
    [property: Id(3)] string? Query,
    [property: Id(4)] DateTimeOffset Timestamp);

/// <summary>One session: a run of events with no gap longer than the inactivity timeout.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SessionSummary")]
[SuppressReferenceTracking]
public sealed record SessionSummary(
    [property: Id(0)] string SessionId,
    [property: Id(1)] DateTimeOffset StartedAt,
    [property: Id(2)] DateTimeOffset LastEventAt,
    [property: Id(3)] IReadOnlyList<SessionEvent> Events);

/// <summary>What the session grain shows: the live session (if any) and recent earlier ones, newest first.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.UserSessionView")]
public sealed record UserSessionView(
    [property: Id(0)] string UserId,
    [property: Id(1)] SessionSummary? Current,
    [property: Id(2)] IReadOnlyList<SessionSummary> Recent);

/// <summary>What the recommendation pipeline needs to know about the user's live session.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SessionContext")]
public sealed record SessionContext(
    [property: Id(0)] string? SessionId,
    [property: Id(1)] IReadOnlyList<string> RecentItems,
    [property: Id(2)] IReadOnlyList<string> PurchasedItems);

/// <summary>The result of recording a batch: which events the grain applied (the others it had seen before).</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.RecordResult")]
public sealed record RecordResult(
    [property: Id(0)] int Applied,
    [property: Id(1)] int AlreadySeen,
    [property: Id(2)] string? SessionId);
