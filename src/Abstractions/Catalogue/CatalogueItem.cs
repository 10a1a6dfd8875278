namespace SessionRec.Abstractions.Catalogue;

/// <summary>One catalogue item. <see cref="Categories"/> is the category path, most general first.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.CatalogueItem")]
public sealed record CatalogueItem(
    [property: Id(0)] string Id,
    [property: Id(1)] string Title,
    [property: Id(2)] string? Brand,
    [property: Id(3)] IReadOnlyList<string> Categories,
    [property: Id(4)] IReadOnlyDictionary<string, string> Attributes,
    [property: Id(5)] decimal? Price,
    [property: Id(6)] bool Available,
    [property: Id(7)] DateTimeOffset UpdatedAt);
