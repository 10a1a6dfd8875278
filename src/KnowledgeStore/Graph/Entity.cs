namespace SessionRec.KnowledgeStore.Graph;

/// <summary>What an entity of the knowledge graph stands for.</summary>
public enum EntityKind
{
    Brand,
    Category,
    Product,
    Attribute,
    Phrase,
}

/// <summary>
/// One node of a tenant's knowledge graph. Ids are stable and readable: <c>brand:opi</c>,
/// <c>category:makeup/lips</c> (every level of every path), <c>product:lip-1</c>, <c>attribute:colour=red</c>,
/// <c>phrase:nail polish</c>. <see cref="Parent"/> is the enclosing category of a category node.
/// </summary>
public sealed record Entity(string Id, EntityKind Kind, string Name, string? Parent = null)
{
    // Written into rationales on every suggestion request: made once per kind.
    private static readonly string[] KindNames = [.. Enum.GetValues<EntityKind>().Select(k => k.ToString().ToLowerInvariant())];

    public static string KindName(EntityKind kind) =>
        (uint)kind < (uint)KindNames.Length ? KindNames[(int)kind] : kind.ToString().ToLowerInvariant();
}

/// <summary>A catalogue item as the knowledge graph reads it.</summary>
public sealed record CatalogueEntry(
    string Id, string? Title, string? Brand, IReadOnlyList<string> Categories, IReadOnlyDictionary<string, string>? Attributes = null);
