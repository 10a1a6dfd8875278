namespace SessionRec.KnowledgeStore.Knowledge;

using SessionRec.KnowledgeStore.Text;

/// <summary>Where a record of the user's memory stream comes from.</summary>
public enum KnowledgeSource
{
    Searched,
    Viewed,
    Clicked,
    Bought,
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

    /// <summary>At most this many entities are kept in the aggregate store (the least recently seen leave first).</summary>
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

    public IReadOnlyList<MemoryRecord> Stream => _stream;

    public IReadOnlyCollection<EntityAggregate> Aggregates => [.. _aggregates.Values.Select(e => e.Aggregate)];

    public static UserKnowledge Restore(IEnumerable<MemoryRecord> stream, IEnumerable<EntityAggregate> aggregates, KnowledgeOptions? options = null)
    {
        var knowledge = new UserKnowledge(options);
        knowledge._stream.AddRange(stream.OrderBy(r => r.At));
        foreach (var aggregate in aggregates)
        {
            knowledge._aggregates[aggregate.Id] = new Entry(aggregate);
        }

        return knowledge;
    }

    public void Add(MemoryRecord record)
    {
        var at = _stream.Count == 0 || record.At >= _stream[^1].At ? _stream.Count : _stream.FindLastIndex(r => r.At <= record.At) + 1;
        _stream.Insert(at, record);
        foreach (var mention in record.Entities.DistinctBy(m => m.Id))
        {
            var sources = _aggregates.TryGetValue(mention.Id, out var existing)
                ? new Dictionary<KnowledgeSource, SourceStats>(existing.Aggregate.Sources)
                : [];
            sources[record.Source] = sources.TryGetValue(record.Source, out var s)
                ? new SourceStats(s.Count + 1, record.At < s.FirstSeen ? record.At : s.FirstSeen, record.At > s.LastSeen ? record.At : s.LastSeen)
                : new SourceStats(1, record.At, record.At);
            var aggregate = new EntityAggregate(mention.Id, mention.Name, sources);
            _aggregates[mention.Id] = existing?.Aggregate.Name == mention.Name ? new Entry(aggregate, existing.Words) : new Entry(aggregate);
            _wordProfile = null;
        }

        Trim(record.At);
    }

    /// <summary>Drops records past the retention window or the size bound, and the least recently seen entities past their bound.</summary>
    public void Trim(DateTimeOffset now)
    {
        var cutoff = now - _options.Retention;
        _stream.RemoveAll(r => r.At < cutoff);
        if (_stream.Count > _options.MaxRecords)
        {
            _stream.RemoveRange(0, _stream.Count - _options.MaxRecords);
        }

        if (_aggregates.Count > _options.MaxEntities)
        {
            foreach (var stale in _aggregates.Values.OrderBy(a => a.LastSeen).Take(_aggregates.Count - _options.MaxEntities).ToList())
            {
                _aggregates.Remove(stale.Aggregate.Id);
            }

            _wordProfile = null;
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
        var top = new List<RetrievedEntity>(Math.Min(k, _aggregates.Count) + 1);
        foreach (var entry in _aggregates.Values)
        {
            var weight = strategy switch
            {
                RetrievalStrategy.Familiar => entry.Count,
                RetrievalStrategy.Unfamiliar => 1.0 / (entry.Count + 1),
                RetrievalStrategy.Lapsed => now - entry.LastSeen >= _options.LapsedAfter ? entry.Count : 0,
                _ => entry.RecencyWeight(now, _options.HalfLife),
            };
            if (weight <= 0)
            {
                continue;
            }

            var inContext = contextEntityIds.Count > 0 && contextEntityIds.Contains(entry.Aggregate.Id);
            var score = weight * (inContext ? 1 : 0.5 + (0.5 * entry.Overlap(words)));
            if (top.Count == k && !Before(score, entry, top[^1]))
            {
                continue;
            }

            var at = top.Count;
            while (at > 0 && Before(score, entry, top[at - 1]))
            {
                at--;
            }

            top.Insert(at, new RetrievedEntity(entry.Aggregate, score, inContext) { Words = entry.Words });
            if (top.Count > k)
            {
                top.RemoveAt(k);
            }
        }

        return top;
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

    private bool Before(double score, Entry entry, RetrievedEntity other)
    {
        if (score != other.Score)
        {
            return score > other.Score;
        }

        var lastSeen = _aggregates[other.Entity.Id].LastSeen;
        return entry.LastSeen != lastSeen ? entry.LastSeen > lastSeen : string.CompareOrdinal(entry.Aggregate.Id, other.Entity.Id) < 0;
    }

    /// <summary>An aggregate with what retrieval reads of it, computed once per change.</summary>
    private sealed class Entry
    {
        private readonly (int Count, DateTimeOffset LastSeen)[] _sources;

        public Entry(EntityAggregate aggregate, string[]? words = null)
        {
            Aggregate = aggregate;
            _sources = new (int, DateTimeOffset)[aggregate.Sources.Count];
            var (i, count, lastSeen) = (0, 0, DateTimeOffset.MinValue);
            foreach (var source in aggregate.Sources.Values)
            {
                _sources[i++] = (source.Count, source.LastSeen);
                count += source.Count;
                lastSeen = source.LastSeen > lastSeen ? source.LastSeen : lastSeen;
            }

            (Count, LastSeen) = (count, lastSeen);
            Words = words ?? [.. TextNormalizer.Tokens(aggregate.Name).Select(TextNormalizer.Singular)];
        }

        public EntityAggregate Aggregate { get; }

        public int Count { get; }

        public DateTimeOffset LastSeen { get; }

        /// <summary>The name's words in singular form.</summary>
        public string[] Words { get; }

        /// <summary>Σ over sources of count · 2^(−age / half-life).</summary>
        public double RecencyWeight(DateTimeOffset now, TimeSpan halfLife)
        {
            var weight = 0.0;
            foreach (var (count, lastSeen) in _sources)
            {
                weight += count * Math.Pow(2, -Math.Max(0, (now - lastSeen).TotalSeconds) / halfLife.TotalSeconds);
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
