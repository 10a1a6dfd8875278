namespace SessionRec.KnowledgeStore.Knowledge;

using SessionRec.KnowledgeStore.Text;

/// <summary>
/// Where a record of the user's memory stream comes from. The values are stored (a store's per-source slots, and the
/// silo's packed state): never renumber them.
/// </summary>
public enum KnowledgeSource
{
    Searched = 0,
    Viewed = 1,
    Clicked = 2,
    Bought = 3,
}

/// <summary>One timestamped record of the memory stream: a query, or an item the user viewed, clicked or bought, with the entities it links to.</summary>
public sealed record MemoryRecord(DateTimeOffset At, KnowledgeSource Source, string Text, string? ItemId, IReadOnlyList<EntityMention> Entities);

/// <summary>An entity as the user's records named it (id and display name, so the store reads without the graph).</summary>
public sealed record EntityMention(string Id, string Name);

/// <summary>How often and when one source (searched, viewed, ...) touched an entity.</summary>
public sealed record SourceStats(int Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>The aggregate row of one entity: per source count, first and last seen. It outlives the memory stream's retention.</summary>
public sealed record EntityAggregate(string Id, string Name, IReadOnlyDictionary<KnowledgeSource, SourceStats> Sources)
{
    public int Count => Sources.Values.Sum(s => s.Count);

    public DateTimeOffset FirstSeen => Sources.Values.Min(s => s.FirstSeen);

    public DateTimeOffset LastSeen => Sources.Values.Max(s => s.LastSeen);
}

/// <summary>Which personal entities to retrieve for a context (K-LaMP's strategies, plus recency weighting).</summary>
public enum RetrievalStrategy
{
    /// <summary>Weight ∝ count: what the user knows well.</summary>
    Familiar,

    /// <summary>Weight ∝ 1 / (count + 1): what the user touched once or twice.</summary>
    Unfamiliar,

    /// <summary>Only entities not seen for <see cref="KnowledgeOptions.LapsedAfter"/>: interests to revive.</summary>
    Lapsed,

    /// <summary>Weight = Σ over sources of count · 2^(−age / half-life): recent and frequent.</summary>
    Recency,
}

public sealed record KnowledgeOptions
{
    /// <summary>Records older than this leave the memory stream (their aggregates stay).</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>At most this many records in the memory stream (the oldest leave first).</summary>
    public int MaxRecords { get; init; } = 500;

    public TimeSpan LapsedAfter { get; init; } = TimeSpan.FromDays(14);

    public TimeSpan HalfLife { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// At most this many entities are kept in the aggregate store (the least recently seen leave first). A full
    /// store sheds down to MaxEntities − MaxEntities/16, so finding the least recently seen (a pass over every
    /// entity) runs once per MaxEntities/16 new entities instead of on every record.
    /// </summary>
    public int MaxEntities { get; init; } = 2_000;
}

/// <summary>A retrieved personal entity with why it was picked.</summary>
public sealed record RetrievedEntity(EntityAggregate Entity, double Score, bool InContext)
{
    /// <summary>The entity name's words in singular form.</summary>
    public IReadOnlyList<string> Words { get; init; } = [];
}

/// <summary>
/// One user's entity-centric knowledge store (K-LaMP): a bounded memory stream of timestamped records and the
/// aggregate projection of those records onto the knowledge graph. Pure data and logic; the silo's grain
/// persists it and the API shows it (transparency) and erases it. Retrieval runs on every suggestion request, so
/// each aggregate keeps what scoring needs (its name's words, total count, last seen) from when it changed.
/// </summary>
public sealed class UserKnowledge(KnowledgeOptions? options = null)
{
    private readonly KnowledgeOptions _options = options ?? new KnowledgeOptions();
    private readonly List<MemoryRecord> _stream = [];
    private readonly Dictionary<string, Entry> _aggregates = new(StringComparer.Ordinal);
    private Dictionary<string, double>? _wordProfile;

    // The entities by recency weight, heaviest first, and the latest time any of them was seen: kept until the
    // store changes (see RetrieveByRecency).
    private Entry[]? _byRecency;
    private DateTimeOffset _latestSeen;

    public IReadOnlyList<MemoryRecord> Stream => _stream;

    /// <summary>The aggregate rows (made on each call: the store keeps them in a compact form).</summary>
    public IReadOnlyCollection<EntityAggregate> Aggregates => [.. _aggregates.Values.Select(e => e.ToAggregate())];

    public static UserKnowledge Restore(IEnumerable<MemoryRecord> stream, IEnumerable<EntityAggregate> aggregates, KnowledgeOptions? options = null)
    {
        var knowledge = new UserKnowledge(options);
        knowledge._stream.AddRange(stream.OrderBy(r => r.At));
        foreach (var aggregate in aggregates)
        {
            knowledge._aggregates[aggregate.Id] = Entry.From(aggregate);
        }

        return knowledge;
    }

    public void Add(MemoryRecord record)
    {
        var at = _stream.Count == 0 || record.At >= _stream[^1].At ? _stream.Count : _stream.FindLastIndex(r => r.At <= record.At) + 1;
        _stream.Insert(at, record);
        for (var i = 0; i < record.Entities.Count; i++)
        {
            var mention = record.Entities[i];
            if (NamedEarlier(record.Entities, i))
            {
                continue;
            }

            if (_aggregates.TryGetValue(mention.Id, out var entry))
            {
                entry.Rename(mention.Name);
            }
            else
            {
                _aggregates[mention.Id] = entry = new Entry(mention.Id, mention.Name);
            }

            entry.Touch(record.Source, record.At);
            Changed();
        }

        Trim(record.At);
    }

    // A record naming an entity twice counts it once (a record names a dozen entities or so).
    private static bool NamedEarlier(IReadOnlyList<EntityMention> mentions, int index)
    {
        for (var j = 0; j < index; j++)
        {
            if (string.Equals(mentions[j].Id, mentions[index].Id, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Drops records past the retention window or the size bound, and the least recently seen entities past their bound.</summary>
    public void Trim(DateTimeOffset now)
    {
        // The stream is in time order: what left the retention window is a prefix.
        var cutoff = now - _options.Retention;
        var expired = 0;
        while (expired < _stream.Count && _stream[expired].At < cutoff)
        {
            expired++;
        }

        _stream.RemoveRange(0, Math.Max(expired, _stream.Count - _options.MaxRecords));
        var excess = _aggregates.Count - _options.MaxEntities;
        if (excess > 0)
        {
            foreach (var stale in LeastRecentlySeen(excess + (_options.MaxEntities / 16)))
            {
                _aggregates.Remove(stale.Id);
            }

            Changed();
        }
    }

    /// <summary>
    /// The <paramref name="count"/> least recently seen entities (ties: the earlier stored first): the count-th oldest
    /// time from a sorted copy of the times, then the entities older than it and, in store order, as many of those seen
    /// at it as are needed. A full store sheds a sixteenth of its bound at once, so this runs once per that many new
    /// entities.
    /// </summary>
    private List<Entry> LeastRecentlySeen(int count)
    {
        var times = System.Buffers.ArrayPool<long>.Shared.Rent(_aggregates.Count);
        try
        {
            var n = 0;
            foreach (var entry in _aggregates.Values)
            {
                times[n++] = entry.LastSeen.UtcTicks;
            }

            Array.Sort(times, 0, n);
            var threshold = times[Math.Min(count, n) - 1];
            var older = 0;
            while (older < n && times[older] < threshold)
            {
                older++;
            }

            var ties = Math.Min(count, n) - older;
            var oldest = new List<Entry>(Math.Min(count, n));
            foreach (var entry in _aggregates.Values)
            {
                if (entry.LastSeen.UtcTicks < threshold)
                {
                    oldest.Add(entry);
                }
                else if (entry.LastSeen.UtcTicks == threshold && ties > 0)
                {
                    oldest.Add(entry);
                    ties--;
                }
            }

            return oldest;
        }
        finally
        {
            System.Buffers.ArrayPool<long>.Shared.Return(times);
        }
    }

    /// <summary>
    /// Up to <paramref name="k"/> personal entities for a context: every stored entity is scored by the strategy's
    /// weight times its relatedness to the context (1 when the context names it, else 0.5 + the share of its
    /// words the context's words cover, so related interests win over unrelated ones). Best first; ties go to the
    /// more recently seen, then to the smaller id.
    /// </summary>
    public IReadOnlyList<RetrievedEntity> Retrieve(
        IReadOnlyCollection<string> contextEntityIds, IReadOnlyCollection<string> contextWords, RetrievalStrategy strategy, DateTimeOffset now, int k = 5)
    {
        if (k <= 0 || _aggregates.Count == 0)
        {
            return [];
        }

        HashSet<string>? words = null;
        foreach (var word in contextWords)
        {
            (words ??= new HashSet<string>(StringComparer.Ordinal)).Add(TextNormalizer.Singular(word));
        }

        // The k best so far, best first: k is small (5 to 50), a user holds up to MaxEntities.
        var top = new List<(double Score, Entry Entry, bool InContext)>(Math.Min(k, _aggregates.Count) + 1);
        if (strategy == RetrievalStrategy.Recency && ByRecency() is var ordered && now >= _latestSeen)
        {
            RetrieveByRecency(ordered, contextEntityIds, words, now, k, top);
        }
        else
        {
            foreach (var entry in _aggregates.Values)
            {
                var weight = strategy switch
                {
                    RetrievalStrategy.Familiar => entry.Count,
                    RetrievalStrategy.Unfamiliar => 1.0 / (entry.Count + 1),
                    RetrievalStrategy.Lapsed => now - entry.LastSeen >= _options.LapsedAfter ? entry.Count : 0,
                    _ => entry.RecencyWeight(now, _options.HalfLife),
                };
                Consider(weight, entry, contextEntityIds, words, k, top);
            }
        }

        return [.. top.Select(t => new RetrievedEntity(t.Entry.ToAggregate(), t.Score, t.InContext) { Words = t.Entry.Words })];
    }

    /// <summary>
    /// Recency retrieval without scoring the whole store. An entity's score is at most its weight, and the entities'
    /// order by weight does not change with "now" once "now" is past everything they record (each weight is
    /// 2^(−now/h) times a sum that does not depend on now). So the entities are visited heaviest first, in an order
    /// kept until the store changes, and the visit stops at the first whose weight cannot reach the k-th score:
    /// the same entities and scores as scoring all of them (a store holds up to 2,000; a request needs ~5).
    /// </summary>
    private void RetrieveByRecency(Entry[] ordered, IReadOnlyCollection<string> contextEntityIds, HashSet<string>? words, DateTimeOffset now, int k, List<(double Score, Entry Entry, bool InContext)> top)
    {
        foreach (var entry in ordered)
        {
            var weight = entry.RecencyWeight(now, _options.HalfLife);

            // Weights computed at "now" follow the kept order up to rounding (a few ulps): the margin covers it.
            if (top.Count == k && weight * (1 + 1e-9) < top[^1].Score)
            {
                return;
            }

            Consider(weight, entry, contextEntityIds, words, k, top);
        }
    }

    private Entry[] ByRecency()
    {
        if (_byRecency is { } kept)
        {
            return kept;
        }

        var entries = _aggregates.Values.ToArray();
        var latest = DateTimeOffset.MinValue;
        foreach (var entry in entries)
        {
            latest = entry.LastSeen > latest ? entry.LastSeen : latest;
        }

        var keys = new double[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            keys[i] = -entries[i].RecencyWeight(latest, _options.HalfLife);
        }

        Array.Sort(keys, entries);
        _latestSeen = latest;
        return _byRecency = entries;
    }

    private static void Consider(double weight, Entry entry, IReadOnlyCollection<string> contextEntityIds, HashSet<string>? words, int k, List<(double Score, Entry Entry, bool InContext)> top)
    {
        if (weight <= 0)
        {
            return;
        }

        var inContext = contextEntityIds.Count > 0 && contextEntityIds.Contains(entry.Id);
        var score = weight * (inContext ? 1 : 0.5 + (0.5 * entry.Overlap(words)));
        if (top.Count == k && !Before(score, entry, top[^1]))
        {
            return;
        }

        var at = top.Count;
        while (at > 0 && Before(score, entry, top[at - 1]))
        {
            at--;
        }

        top.Insert(at, (score, entry, inContext));
        if (top.Count > k)
        {
            top.RemoveAt(k);
        }
    }

    private void Changed()
    {
        _wordProfile = null;
        _byRecency = null;
    }

    /// <summary>
    /// The words of the user's <see cref="ProfileEntities"/> most recent-and-frequent entities, each weighted by its
    /// best entity's recency weight over the top one's, times 0.5 (what personal re-ranking adds per word). Kept
    /// until the store changes: moving "now" scales every entity's recency weight by the same factor
    /// (Σ count · 2^(−(now − seen)/h) = 2^(−now/h) · Σ count · 2^(seen/h)), so neither the entities chosen nor these
    /// ratios depend on when they are asked for (a record dated after "now" would, which the event contract keeps
    /// to at most minutes). Not thread-safe, like the rest of the store: its owner reads it in its own turn.
    /// </summary>
    public IReadOnlyDictionary<string, double> WordProfile(DateTimeOffset now)
    {
        if (_wordProfile is { } cached)
        {
            return cached;
        }

        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        var aggregates = Retrieve([], [], RetrievalStrategy.Recency, now, ProfileEntities);
        var top = aggregates.Count == 0 ? 1 : aggregates[0].Score;
        foreach (var a in aggregates)
        {
            foreach (var word in a.Words)
            {
                weights[word] = Math.Max(weights.GetValueOrDefault(word), 0.5 * a.Score / top);
            }
        }

        return _wordProfile = weights;
    }

    /// <summary>How many entities <see cref="WordProfile"/> draws its words from.</summary>
    public const int ProfileEntities = 50;

    private static bool Before(double score, Entry entry, (double Score, Entry Entry, bool InContext) other)
    {
        if (score != other.Score)
        {
            return score > other.Score;
        }

        var lastSeen = other.Entry.LastSeen;
        return entry.LastSeen != lastSeen ? entry.LastSeen > lastSeen : string.CompareOrdinal(entry.Id, other.Entry.Id) < 0;
    }

    /// <summary>
    /// One entity's aggregate in the form the store keeps (a user holds up to <see cref="KnowledgeOptions.MaxEntities"/>):
    /// per source its stats, with the totals retrieval reads kept as they change. The public
    /// <see cref="EntityAggregate"/> is made only when asked for (measured: a dictionary per entity was most of a
    /// store's bytes, ~460 B an entity against ~200 B now).
    /// </summary>
    private sealed class Entry
    {
        private const int SourceCount = 4;

        // Indexed by KnowledgeSource; null where that source never touched the entity.
        private readonly SourceStats?[] _sources = new SourceStats?[SourceCount];

        public Entry(string id, string name)
        {
            Id = id;
            Name = name;
            Words = NameWords.Of(name);
        }

        public string Id { get; }

        public string Name { get; private set; }

        public int Count { get; private set; }

        public DateTimeOffset LastSeen { get; private set; } = DateTimeOffset.MinValue;

        /// <summary>The name's words in singular form.</summary>
        public string[] Words { get; private set; }

        public static Entry From(EntityAggregate aggregate)
        {
            var entry = new Entry(aggregate.Id, aggregate.Name);
            foreach (var (source, stats) in aggregate.Sources)
            {
                entry._sources[(int)source] = stats;
                entry.Count += stats.Count;
                entry.LastSeen = stats.LastSeen > entry.LastSeen ? stats.LastSeen : entry.LastSeen;
            }

            return entry;
        }

        public void Rename(string name)
        {
            if (!string.Equals(name, Name, StringComparison.Ordinal))
            {
                Name = name;
                Words = NameWords.Of(name);
            }
        }

        public void Touch(KnowledgeSource source, DateTimeOffset at)
        {
            var s = _sources[(int)source];
            _sources[(int)source] = s is null
                ? new SourceStats(1, at, at)
                : new SourceStats(s.Count + 1, at < s.FirstSeen ? at : s.FirstSeen, at > s.LastSeen ? at : s.LastSeen);
            Count++;
            LastSeen = at > LastSeen ? at : LastSeen;
        }

        public EntityAggregate ToAggregate()
        {
            var sources = new Dictionary<KnowledgeSource, SourceStats>(2);
            for (var i = 0; i < SourceCount; i++)
            {
                if (_sources[i] is { } stats)
                {
                    sources[(KnowledgeSource)i] = stats;
                }
            }

            return new EntityAggregate(Id, Name, sources);
        }

        /// <summary>Σ over sources of count · 2^(−age / half-life).</summary>
        public double RecencyWeight(DateTimeOffset now, TimeSpan halfLife)
        {
            var weight = 0.0;
            foreach (var stats in _sources)
            {
                if (stats is not null)
                {
                    weight += stats.Count * Math.Pow(2, -Math.Max(0, (now - stats.LastSeen).TotalSeconds) / halfLife.TotalSeconds);
                }
            }

            return weight;
        }

        /// <summary>The share of the name's words among <paramref name="words"/>.</summary>
        public double Overlap(HashSet<string>? words)
        {
            if (words is null || Words.Length == 0)
            {
                return 0;
            }

            var hits = 0;
            foreach (var word in Words)
            {
                if (words.Contains(word))
                {
                    hits++;
                }
            }

            return (double)hits / Words.Length;
        }
    }
}

/// <summary>
/// An entity name's words in singular form, shared by every store that holds the entity (names come from the
/// tenant's graph, so the same few thousand recur across users). Bounded at 200,000 names.
/// </summary>
internal static class NameWords
{
    private static readonly WordsMemo Memo = new(name => [.. TextNormalizer.Tokens(name).Select(TextNormalizer.Singular)], 200_000);

    public static string[] Of(string name) => Memo.Of(name);
}
