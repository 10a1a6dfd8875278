namespace SessionRec.Abstractions.Recommendations;

/// <param name="Rounds">Multi-round retrieval rounds to run (0: single-pass ranking). Ignored when the active
/// model has no round encoder.</param>
/// <param name="Continue">The round state of this session's previous multi-round request: the rounds run next
/// continue from it (a "more" request) instead of starting over.</param>
[GenerateSerializer, Immutable]
[Alias("SessionRec.RecommendationRequest")]
public sealed record RecommendationRequest(
    [property: Id(0)] int K,
    [property: Id(1)] IReadOnlyList<string> SessionItems,
    [property: Id(2)] IReadOnlyList<string> Exclude,
    [property: Id(3)] string? ContextItem,
    [property: Id(4)] int Rounds = 0,
    [property: Id(5)] RoundState? Continue = null);

/// <param name="Round">The multi-round retrieval round that found the item (1-based), or null.</param>
[GenerateSerializer, Immutable]
[Alias("SessionRec.RecommendedItem")]
public sealed record RecommendedItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] double Score,
    [property: Id(2)] string Source,
    [property: Id(3)] string Reason,
    [property: Id(4)] int? Round = null);

/// <param name="Rounds">The round state after this list (null when multi-round retrieval did not run).</param>
/// <param name="Continued">True when the list continued an earlier request's rounds.</param>
[GenerateSerializer, Immutable]
[Alias("SessionRec.RecommendationList")]
public sealed record RecommendationList(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] IReadOnlyList<RecommendedItem> Items,
    [property: Id(2)] RoundState? Rounds = null,
    [property: Id(3)] bool Continued = false);

/// <summary>
/// Where a session's multi-round retrieval stands, so the next page continues it: the model and session it
/// belongs to, the rounds run, the last round's user vector and GRU state, the items each round retrieved (in
/// round order, <c>PerRound</c> each) and the items already shown.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.RoundState")]
public sealed record RoundState(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] string SessionKey,
    [property: Id(2)] int Rounds,
    [property: Id(3)] float[] User,
    [property: Id(4)] float[] GruState,
    [property: Id(5)] IReadOnlyList<string> Retrieved,
    [property: Id(6)] IReadOnlyList<string> Shown);

/// <summary>
/// A recommendation request as the API hands it to the user's session grain, which adds what it knows (the live
/// session's items and purchases, the round state of a "more" request) and keeps the new round state itself.
/// </summary>
/// <param name="More">Continue the session's multi-round retrieval instead of starting over.</param>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SessionRecommendationRequest")]
public sealed record SessionRecommendationRequest(
    [property: Id(0)] int K,
    [property: Id(1)] IReadOnlyList<string> Exclude,
    [property: Id(2)] string? ContextItem,
    [property: Id(3)] int Rounds,
    [property: Id(4)] bool More);

/// <summary>The list, and the live session it was served for (null: none).</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SessionRecommendations")]
public sealed record SessionRecommendations(
    [property: Id(0)] RecommendationList List,
    [property: Id(1)] string? SessionId);
