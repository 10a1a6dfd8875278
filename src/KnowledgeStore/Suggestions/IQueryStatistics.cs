namespace SessionRec.KnowledgeStore.Suggestions;

/// <summary>One offered query: its normal form, the text people typed, searches, distinct users, last search.</summary>
public readonly record struct QueryEntry(string Key, string Text, int Count, int Users, DateTimeOffset LastSeen)
{
    /// <summary>The key's content words (<see cref="Text.TextNormalizer.ContentWords"/>) where the source keeps them; null where it does not.</summary>
    public string[]? Words { get; init; }

    // The words follow from the key: two entries of the same query are equal whether or not their source kept them.
    public bool Equals(QueryEntry other) =>
        Key == other.Key && Text == other.Text && Count == other.Count && Users == other.Users && LastSeen == other.LastSeen;

    public override int GetHashCode() => HashCode.Combine(Key, Text, Count, Users, LastSeen);
}

/// <summary>
/// What the suggestion pipeline reads of a query log: offered queries only (those enough distinct users searched).
/// The live <see cref="QueryLog"/> (offline evaluation, the service's builder) and its immutable
/// <see cref="QueryLogSnapshot"/> (what each silo serves from) both answer it.
/// </summary>
public interface IQueryStatistics
{
    /// <summary>The most searches of one offered query (scales completion popularity).</summary>
    int MaxCount { get; }

    /// <summary>The offered query with this normal form, if any.</summary>
    QueryEntry? Find(string normalized);

    /// <summary>Up to <paramref name="n"/> offered queries starting with the prefix (normal form), most searched first, then by key.</summary>
    IReadOnlyList<QueryEntry> TopCompletions(string normalizedPrefix, int n);

    /// <summary>What people searched right after this query (transitions enough users made, to offered queries), with counts.</summary>
    IReadOnlyDictionary<string, int> Next(string normalizedQuery);
}
