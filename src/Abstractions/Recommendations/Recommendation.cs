namespace SessionRec.Abstractions.Recommendations;

[GenerateSerializer, Immutable]
[Alias("SessionRec.RecommendationRequest")]
public sealed record RecommendationRequest(
    [property: Id(0)] int K,
    [property: Id(1)] IReadOnlyList<string> SessionItems,
    [property: Id(2)] IReadOnlyList<string> Exclude,
    [property: Id(3)] string? ContextItem);

[GenerateSerializer, Immutable]
[Alias("SessionRec.RecommendedItem")]
public sealed record RecommendedItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] double Score,
    [property: Id(2)] string Source,
    [property: Id(3)] string Reason);

[GenerateSerializer, Immutable]
[Alias("SessionRec.RecommendationList")]
public sealed record RecommendationList(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] IReadOnlyList<RecommendedItem> Items);
