namespace SessionRec.KnowledgeStore.Suggestions;

using SessionRec.KnowledgeStore.Text;

/// <summary>
/// An immutable copy of what a <see cref="QueryLog"/> offers: only the queries and transitions enough distinct users
/// made (k-anonymity is applied when the snapshot is taken, so a snapshot holds no user ids and nothing a single
/// user searched alone). Any number of requests read it without a lock. Prefix completion is a binary search over
/// the sorted keys; for the short prefixes that match most of the log (up to <see cref="PrecomputedPrefixLength"/>
/// characters, the empty one included) the most searched <see cref="PrecomputedPerPrefix"/> are listed when the
/// snapshot is made or read, so no request scans the log.
/// Memory: per offered query its key, text, three numbers and, once a request re-ranked it, its content words; per offered transition two ints; the lists of short
/// prefixes (at most <see cref="PrecomputedPerPrefix"/> ints per distinct prefix).
/// </summary>
public sealed class QueryLogSnapshot : IQueryStatistics
{
    public const int PrecomputedPrefixLength = 2;
    public const int PrecomputedPerPrefix = 200;
    private const int FormatVersion = 1;

    private readonly string[] _keys;
    private readonly string[] _texts;
    private readonly int[] _counts;
    private readonly int[] _users;
    private readonly long[] _lastSeen;
    private readonly string[]?[] _words;

    // Transitions: sources sorted (a source need not be offered itself), each with a range of (target, count).
    private readonly string[] _from;
    private readonly int[] _fromStart;
    private readonly int[] _to;
    private readonly int[] _toCount;
    private readonly Dictionary<string, int[]> _top = new(StringComparer.Ordinal);

    private QueryLogSnapshot(string[] keys, string[] texts, int[] counts, int[] users, long[] lastSeen, string[] from, int[] fromStart, int[] to, int[] toCount)
    {
        (_keys, _texts, _counts, _users, _lastSeen) = (keys, texts, counts, users, lastSeen);
        _words = new string[keys.Length][];
        (_from, _fromStart, _to, _toCount) = (from, fromStart, to, toCount);
        foreach (var count in counts)
        {
            MaxCount = Math.Max(MaxCount, count);
        }

        // One pass over the queries, most searched first, fills every short prefix's list.
        var lists = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(order, Compare);
        foreach (var i in order)
        {
            for (var length = 0; length <= Math.Min(PrecomputedPrefixLength, keys[i].Length); length++)
            {
                var prefix = keys[i][..length];
                if (!lists.TryGetValue(prefix, out var list))
                {
                    lists[prefix] = list = [];
                }

                if (list.Count < PrecomputedPerPrefix)
                {
                    list.Add(i);
                }
            }
        }

        foreach (var (prefix, list) in lists)
        {
            _top[prefix] = [.. list];
        }
    }

    public static QueryLogSnapshot Empty { get; } = new([], [], [], [], [], [], [0], [], []);

    /// <summary>Offered queries.</summary>
    public int Count => _keys.Length;

    /// <summary>Offered transitions.</summary>
    public int Transitions => _to.Length;

    public int MaxCount { get; }

    /// <summary>What <paramref name="log"/> offers now (its <see cref="QueryLog.MinUsers"/> applied).</summary>
    public static QueryLogSnapshot From(QueryLog log)
    {
        var offered = log.Offered().OrderBy(q => q.Key, StringComparer.Ordinal).ToList();
        var index = new Dictionary<string, int>(offered.Count, StringComparer.Ordinal);
        for (var i = 0; i < offered.Count; i++)
        {
            index[offered[i].Key] = i;
        }

        var from = new List<string>();
        var fromStart = new List<int> { 0 };
        var to = new List<int>();
        var toCount = new List<int>();
        foreach (var (before, next) in log.OfferedTransitions().OrderBy(t => t.Before, StringComparer.Ordinal))
        {
            var targets = next.Where(n => index.ContainsKey(n.After)).OrderBy(n => n.After, StringComparer.Ordinal).ToList();
            if (targets.Count == 0)
            {
                continue;
            }

            from.Add(before);
            foreach (var (after, count) in targets)
            {
                to.Add(index[after]);
                toCount.Add(count);
            }

            fromStart.Add(to.Count);
        }

        return new QueryLogSnapshot(
            [.. offered.Select(q => q.Key)], [.. offered.Select(q => q.Text)], [.. offered.Select(q => q.Count)], [.. offered.Select(q => q.Users)],
            [.. offered.Select(q => q.LastSeen.UtcTicks)], [.. from], [.. fromStart], [.. to], [.. toCount]);
    }

    public QueryEntry? Find(string normalized)
    {
        var i = Array.BinarySearch(_keys, normalized, StringComparer.Ordinal);
        return i >= 0 ? Entry(i) : null;
    }

    public IReadOnlyList<QueryEntry> TopCompletions(string normalizedPrefix, int n)
    {
        if (n <= 0)
        {
            return [];
        }

        if (normalizedPrefix.Length <= PrecomputedPrefixLength && n <= PrecomputedPerPrefix)
        {
            if (!_top.TryGetValue(normalizedPrefix, out var listed))
            {
                return [];
            }

            var top = new QueryEntry[Math.Min(n, listed.Length)];
            for (var i = 0; i < top.Length; i++)
            {
                top[i] = Entry(listed[i]);
            }

            return top;
        }

        var start = Array.BinarySearch(_keys, normalizedPrefix, StringComparer.Ordinal);
        start = start < 0 ? ~start : start;
        var end = start;
        while (end < _keys.Length && _keys[end].StartsWith(normalizedPrefix, StringComparison.Ordinal))
        {
            end++;
        }

        var range = new int[end - start];
        for (var i = 0; i < range.Length; i++)
        {
            range[i] = start + i;
        }

        Array.Sort(range, Compare);
        var result = new QueryEntry[Math.Min(n, range.Length)];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Entry(range[i]);
        }

        return result;
    }

    public IReadOnlyDictionary<string, int> Next(string normalizedQuery)
    {
        var i = Array.BinarySearch(_from, normalizedQuery, StringComparer.Ordinal);
        if (i < 0)
        {
            return new Dictionary<string, int>(StringComparer.Ordinal);
        }

        var next = new Dictionary<string, int>(_fromStart[i + 1] - _fromStart[i], StringComparer.Ordinal);
        for (var t = _fromStart[i]; t < _fromStart[i + 1]; t++)
        {
            next[_keys[_to[t]]] = _toCount[t];
        }

        return next;
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(_keys.Length);
        for (var i = 0; i < _keys.Length; i++)
        {
            writer.Write(_keys[i]);
            writer.Write(_texts[i]);
            writer.Write(_counts[i]);
            writer.Write(_users[i]);
            writer.Write(_lastSeen[i]);
        }

        writer.Write(_from.Length);
        for (var i = 0; i < _from.Length; i++)
        {
            writer.Write(_from[i]);
            writer.Write(_fromStart[i + 1] - _fromStart[i]);
            for (var t = _fromStart[i]; t < _fromStart[i + 1]; t++)
            {
                writer.Write(_to[t]);
                writer.Write(_toCount[t]);
            }
        }
    }

    public static QueryLogSnapshot ReadFrom(BinaryReader reader)
    {
        if (reader.ReadInt32() != FormatVersion)
        {
            throw new InvalidDataException("Unknown query log snapshot format.");
        }

        var n = reader.ReadInt32();
        var (keys, texts, counts, users, lastSeen) = (new string[n], new string[n], new int[n], new int[n], new long[n]);
        for (var i = 0; i < n; i++)
        {
            (keys[i], texts[i], counts[i], users[i], lastSeen[i]) = (reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64());
        }

        var sources = reader.ReadInt32();
        var from = new string[sources];
        var fromStart = new int[sources + 1];
        var to = new List<int>();
        var toCount = new List<int>();
        for (var i = 0; i < sources; i++)
        {
            from[i] = reader.ReadString();
            var targets = reader.ReadInt32();
            for (var t = 0; t < targets; t++)
            {
                var target = reader.ReadInt32();
                if ((uint)target >= (uint)n)
                {
                    throw new InvalidDataException("A query log snapshot names a query it does not hold.");
                }

                to.Add(target);
                toCount.Add(reader.ReadInt32());
            }

            fromStart[i + 1] = to.Count;
        }

        return new QueryLogSnapshot(keys, texts, counts, users, lastSeen, from, fromStart, [.. to], [.. toCount]);
    }

    private QueryEntry Entry(int i) => new(_keys[i], _texts[i], _counts[i], _users[i], new DateTimeOffset(_lastSeen[i], TimeSpan.Zero)) { Words = WordsOf(i) };

    // Made on first use and kept (every request that completes a short prefix re-ranks the same queries); two
    // requests making the same words at once store equal arrays.
    private string[] WordsOf(int i) => _words[i] ??= TextNormalizer.ContentWords(_keys[i]);

    // Most searched first, then by key: the order completion lists are cut in.
    private int Compare(int a, int b)
    {
        var byCount = _counts[b].CompareTo(_counts[a]);
        return byCount != 0 ? byCount : string.CompareOrdinal(_keys[a], _keys[b]);
    }
}
