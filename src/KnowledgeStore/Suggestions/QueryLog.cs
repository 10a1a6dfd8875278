namespace SessionRec.KnowledgeStore.Suggestions;

using SessionRec.KnowledgeStore.Text;

/// <summary>
/// A tenant's query log as suggestion statistics: per query (normal form) how often, when and by whom it was
/// searched, the text people typed, and query-to-query transitions (what people searched next in a session).
/// Privacy: a query or transition is offered to others only once <see cref="MinUsers"/> distinct users searched it
/// (k-anonymity), and <see cref="ForgetUser"/> takes a user's contributions back at once (erasure).
/// Memory: one entry per distinct (query, user) and (transition, user) pair of the searches folded in — bounded by
/// the searches the owner folds in (the service: the newest <c>Recommendations:RebuildMaxEvents</c> log records).
/// Prefix completion searches a sorted key array rebuilt lazily after changes. The service bounds it with
/// <see cref="Trim"/> and checkpoints it whole (<see cref="WriteTo"/>, user ids included, so an erasure survives a
/// restart); what it offers is served from <see cref="QueryLogSnapshot"/>s.
/// </summary>
public sealed class QueryLog : IQueryStatistics
{
    private const int FormatVersion = 1;

    /// <summary>The contributor of searches added without a user (offline logs without user ids).</summary>
    public const string Anonymous = "";

    private readonly Dictionary<string, Stats> _queries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Contributions>> _next = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _queriesByUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<(string Before, string After)>> _transitionsByUser = new(StringComparer.Ordinal);
    private string[]? _sorted;
    private int _maxCount = -1;
    private int _minUsers = 1;

    /// <summary>Searches and distinct users of one query or transition.</summary>
    public class Contributions
    {
        internal Dictionary<string, int> ByUser { get; } = new(StringComparer.Ordinal);

        public int Count { get; internal set; }

        public int Users => ByUser.Count;

        internal void Add(string user)
        {
            Count++;
            ByUser[user] = ByUser.GetValueOrDefault(user) + 1;
        }

        internal bool Remove(string user)
        {
            if (ByUser.Remove(user, out var count))
            {
                Count -= count;
            }

            return ByUser.Count == 0;
        }
    }

    public sealed class Stats(string text) : Contributions
    {
        public string Text { get; set; } = text;

        public DateTimeOffset LastSeen { get; set; }
    }

    /// <summary>Distinct users a query or transition needs before it is offered (1: everything, for offline evaluation).</summary>
    public int MinUsers
    {
        get => _minUsers;
        set
        {
            _minUsers = Math.Max(1, value);
            _maxCount = -1;
        }
    }

    public int Count => _queries.Count;

    /// <summary>
    /// The most searches of one offered query (scales completion popularity). Kept up to date as searches are added;
    /// recomputed over every query only after an erasure or a change of <see cref="MinUsers"/>, both rare.
    /// </summary>
    public int MaxCount
    {
        get
        {
            if (_maxCount < 0)
            {
                _maxCount = 0;
                foreach (var stats in _queries.Values)
                {
                    if (stats.Users >= MinUsers)
                    {
                        _maxCount = Math.Max(_maxCount, stats.Count);
                    }
                }
            }

            return _maxCount;
        }
    }

    /// <summary>The query's statistics if it may be offered.</summary>
    public Stats? Get(string normalized) => _queries.GetValueOrDefault(normalized) is { } stats && stats.Users >= MinUsers ? stats : null;

    /// <summary>Records a search; <paramref name="previous"/> is the same user's query before it in the same session, if any.</summary>
    public void Add(string query, DateTimeOffset at, string? previous = null, string user = Anonymous)
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

        stats.Add(user);
        if (_maxCount >= 0 && stats.Users >= MinUsers)
        {
            _maxCount = Math.Max(_maxCount, stats.Count);
        }
        if (at > stats.LastSeen)
        {
            stats.LastSeen = at;
        }

        Own(_queriesByUser, user).Add(key);
        var before = TextNormalizer.Normalize(previous);
        if (before.Length > 0 && before != key)
        {
            if (!_next.TryGetValue(before, out var next))
            {
                _next[before] = next = new Dictionary<string, Contributions>(StringComparer.Ordinal);
            }

            if (!next.TryGetValue(key, out var transition))
            {
                next[key] = transition = new Contributions();
            }

            transition.Add(user);
            Own(_transitionsByUser, user).Add((before, key));
        }
    }

    /// <summary>Removes every search and transition the user contributed.</summary>
    public void ForgetUser(string user)
    {
        if (_queriesByUser.Remove(user, out var queries))
        {
            foreach (var key in queries)
            {
                if (_queries.TryGetValue(key, out var stats) && stats.Remove(user))
                {
                    _queries.Remove(key);
                    _sorted = null;
                }
            }

            _maxCount = -1;
        }

        if (_transitionsByUser.Remove(user, out var transitions))
        {
            foreach (var (before, after) in transitions)
            {
                if (_next.TryGetValue(before, out var next) && next.TryGetValue(after, out var transition) && transition.Remove(user))
                {
                    next.Remove(after);
                    if (next.Count == 0)
                    {
                        _next.Remove(before);
                    }
                }
            }
        }
    }

    /// <summary>Whether any search of the user is still held (erasure's check).</summary>
    public bool Holds(string user) => _queriesByUser.ContainsKey(user) || _transitionsByUser.ContainsKey(user);

    /// <summary>Offered queries starting with the prefix (normal form; every offered query when it is empty).</summary>
    public IEnumerable<(string Key, Stats Stats)> Completions(string normalizedPrefix)
    {
        if (normalizedPrefix.Length == 0)
        {
            foreach (var (key, stats) in _queries)
            {
                if (stats.Users >= MinUsers)
                {
                    yield return (key, stats);
                }
            }

            yield break;
        }

        _sorted ??= [.. _queries.Keys.Order(StringComparer.Ordinal)];
        var index = Array.BinarySearch(_sorted, normalizedPrefix, StringComparer.Ordinal);
        for (var i = index < 0 ? ~index : index; i < _sorted.Length && _sorted[i].StartsWith(normalizedPrefix, StringComparison.Ordinal); i++)
        {
            var stats = _queries[_sorted[i]];
            if (stats.Users >= MinUsers)
            {
                yield return (_sorted[i], stats);
            }
        }
    }

    /// <summary>What people searched right after this query (transitions enough users made), with counts.</summary>
    public IReadOnlyDictionary<string, int> Next(string normalizedQuery)
    {
        var offered = new Dictionary<string, int>(StringComparer.Ordinal);
        if (_next.TryGetValue(normalizedQuery, out var next))
        {
            foreach (var (query, transition) in next)
            {
                if (transition.Users >= MinUsers && Get(query) is not null)
                {
                    offered[query] = transition.Count;
                }
            }
        }

        return offered;
    }

    public QueryEntry? Find(string normalized) =>
        Get(normalized) is { } stats ? new QueryEntry(normalized, stats.Text, stats.Count, stats.Users, stats.LastSeen) : null;

    public IReadOnlyList<QueryEntry> TopCompletions(string normalizedPrefix, int n) =>
        [.. Completions(normalizedPrefix).OrderByDescending(c => c.Stats.Count).ThenBy(c => c.Key, StringComparer.Ordinal).Take(n)
            .Select(c => new QueryEntry(c.Key, c.Stats.Text, c.Stats.Count, c.Stats.Users, c.Stats.LastSeen))];

    /// <summary>Every offered query (what a snapshot holds).</summary>
    internal IEnumerable<QueryEntry> Offered() =>
        Completions("").Select(c => new QueryEntry(c.Key, c.Stats.Text, c.Stats.Count, c.Stats.Users, c.Stats.LastSeen));

    /// <summary>Every source query with its offered transitions (their targets may still be unoffered queries).</summary>
    internal IEnumerable<(string Before, IEnumerable<(string After, int Count)> Next)> OfferedTransitions() =>
        _next.Select(kv => (kv.Key, kv.Value.Where(t => t.Value.Users >= MinUsers).Select(t => (t.Key, t.Value.Count))));

    /// <summary>
    /// Keeps at most <paramref name="maxQueries"/> distinct queries: past it, the least recently searched tenth are
    /// forgotten with every transition to or from them. Returns how many were dropped.
    /// </summary>
    public int Trim(int maxQueries)
    {
        if (_queries.Count <= maxQueries)
        {
            return 0;
        }

        var drop = _queries.Count - (maxQueries - (maxQueries / 10));
        var oldest = _queries.OrderBy(q => q.Value.LastSeen).Take(drop).Select(q => q.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in oldest)
        {
            foreach (var user in _queries[key].ByUser.Keys)
            {
                if (_queriesByUser.TryGetValue(user, out var keys) && keys.Remove(key) && keys.Count == 0)
                {
                    _queriesByUser.Remove(user);
                }
            }

            _queries.Remove(key);
        }

        foreach (var (before, next) in _next.ToList())
        {
            foreach (var (after, transition) in next.ToList())
            {
                if (oldest.Contains(before) || oldest.Contains(after))
                {
                    foreach (var user in transition.ByUser.Keys)
                    {
                        if (_transitionsByUser.TryGetValue(user, out var pairs) && pairs.Remove((before, after)) && pairs.Count == 0)
                        {
                            _transitionsByUser.Remove(user);
                        }
                    }

                    next.Remove(after);
                }
            }

            if (next.Count == 0)
            {
                _next.Remove(before);
            }
        }

        _sorted = null;
        _maxCount = -1;
        return oldest.Count;
    }

    /// <summary>The whole log, contributions by user included (the builder's checkpoint; never served).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(_queries.Count);
        foreach (var (key, stats) in _queries)
        {
            writer.Write(key);
            writer.Write(stats.Text);
            writer.Write(stats.LastSeen.UtcTicks);
            WriteContributions(writer, stats);
        }

        writer.Write(_next.Count);
        foreach (var (before, next) in _next)
        {
            writer.Write(before);
            writer.Write(next.Count);
            foreach (var (after, transition) in next)
            {
                writer.Write(after);
                WriteContributions(writer, transition);
            }
        }
    }

    /// <summary>Reads a log <see cref="WriteTo"/> wrote (its <see cref="MinUsers"/> is the caller's to set).</summary>
    public static QueryLog ReadFrom(BinaryReader reader)
    {
        if (reader.ReadInt32() != FormatVersion)
        {
            throw new InvalidDataException("Unknown query log checkpoint format.");
        }

        var log = new QueryLog();
        var queries = reader.ReadInt32();
        for (var i = 0; i < queries; i++)
        {
            var key = reader.ReadString();
            var stats = new Stats(reader.ReadString()) { LastSeen = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero) };
            ReadContributions(reader, stats);
            log._queries[key] = stats;
            foreach (var user in stats.ByUser.Keys)
            {
                Own(log._queriesByUser, user).Add(key);
            }
        }

        var sources = reader.ReadInt32();
        for (var i = 0; i < sources; i++)
        {
            var before = reader.ReadString();
            var next = new Dictionary<string, Contributions>(StringComparer.Ordinal);
            var targets = reader.ReadInt32();
            for (var t = 0; t < targets; t++)
            {
                var after = reader.ReadString();
                var transition = new Contributions();
                ReadContributions(reader, transition);
                next[after] = transition;
                foreach (var user in transition.ByUser.Keys)
                {
                    Own(log._transitionsByUser, user).Add((before, after));
                }
            }

            log._next[before] = next;
        }

        return log;
    }

    private static void WriteContributions(BinaryWriter writer, Contributions contributions)
    {
        writer.Write(contributions.ByUser.Count);
        foreach (var (user, count) in contributions.ByUser)
        {
            writer.Write(user);
            writer.Write(count);
        }
    }

    private static void ReadContributions(BinaryReader reader, Contributions contributions)
    {
        var users = reader.ReadInt32();
        for (var u = 0; u < users; u++)
        {
            var user = reader.ReadString();
            var count = reader.ReadInt32();
            contributions.ByUser[user] = count;
            contributions.Count += count;
        }
    }

    private static HashSet<T> Own<T>(Dictionary<string, HashSet<T>> byUser, string user)
    {
        if (!byUser.TryGetValue(user, out var set))
        {
            byUser[user] = set = [];
        }

        return set;
    }
}
