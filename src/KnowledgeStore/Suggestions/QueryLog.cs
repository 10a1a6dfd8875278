namespace SessionRec.KnowledgeStore.Suggestions;

using SessionRec.KnowledgeStore.Text;

/// <summary>
/// A tenant's query log as suggestion statistics: per query (normal form) how often and when it was searched,
/// the text people typed most, and query-to-query transitions (what people searched next in a session).
/// Prefix completion searches a sorted key array rebuilt lazily after changes.
/// </summary>
public sealed class QueryLog
{
    private readonly Dictionary<string, Stats> _queries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, int>> _next = new(StringComparer.Ordinal);
    private string[]? _sorted;

    public sealed class Stats(string text)
    {
        public string Text { get; set; } = text;

        public int Count { get; set; }

        public DateTimeOffset LastSeen { get; set; }
    }

    public int Count => _queries.Count;

    public int MaxCount { get; private set; }

    public Stats? Get(string normalized) => _queries.GetValueOrDefault(normalized);

    /// <summary>Records a search; <paramref name="previous"/> is the query before it in the same session, if any.</summary>
    public void Add(string query, DateTimeOffset at, string? previous = null)
    {
        var key = TextNormalizer.Normalize(query);
        if (key.Length == 0)
        {
            return;
        }

        if (!_queries.TryGetValue(key, out var stats))
        {
            _queries[key] = stats = new Stats(query.Trim());
            _sorted = null;
        }

        stats.Count++;
        MaxCount = Math.Max(MaxCount, stats.Count);
        if (at > stats.LastSeen)
        {
            stats.LastSeen = at;
        }

        var before = TextNormalizer.Normalize(previous);
        if (before.Length > 0 && before != key)
        {
            if (!_next.TryGetValue(before, out var next))
            {
                _next[before] = next = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            next[key] = next.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Queries starting with the prefix (normal form; every query when it is empty).</summary>
    public IEnumerable<(string Key, Stats Stats)> Completions(string normalizedPrefix)
    {
        if (normalizedPrefix.Length == 0)
        {
            foreach (var (key, stats) in _queries)
            {
                yield return (key, stats);
            }

            yield break;
        }

        _sorted ??= [.. _queries.Keys.Order(StringComparer.Ordinal)];
        var index = Array.BinarySearch(_sorted, normalizedPrefix, StringComparer.Ordinal);
        for (var i = index < 0 ? ~index : index; i < _sorted.Length && _sorted[i].StartsWith(normalizedPrefix, StringComparison.Ordinal); i++)
        {
            yield return (_sorted[i], _queries[_sorted[i]]);
        }
    }

    /// <summary>What people searched right after this query, with counts.</summary>
    public IReadOnlyDictionary<string, int> Next(string normalizedQuery) =>
        _next.TryGetValue(normalizedQuery, out var next) ? next : new Dictionary<string, int>();
}
