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
public sealed record RetrievedEntity(EntityAggregate Entity, double Score, bool InContext);

/// <summary>
/// One user's entity-centric knowledge store (K-LaMP): a bounded memory stream of timestamped records and the
/// aggregate projection of those records onto the knowledge graph. Pure data and logic; the silo's grain
/// persists it and the API shows it (transparency) and erases it.
/// </summary>
public sealed class UserKnowledge(KnowledgeOptions? options = null)
{
    private readonly KnowledgeOptions _options = options ?? new KnowledgeOptions();
    private readonly List<MemoryRecord> _stream = [];
    private readonly Dictionary<string, EntityAggregate> _aggregates = new(StringComparer.Ordinal);

    public IReadOnlyList<MemoryRecord> Stream => _stream;

    public IReadOnlyCollection<EntityAggregate> Aggregates => _aggregates.Values;

    public static UserKnowledge Restore(IEnumerable<MemoryRecord> stream, IEnumerable<EntityAggregate> aggregates, KnowledgeOptions? options = null)
    {
        var knowledge = new UserKnowledge(options);
        knowledge._stream.AddRange(stream.OrderBy(r => r.At));
        foreach (var aggregate in aggregates)
        {
            knowledge._aggregates[aggregate.Id] = aggregate;
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
                ? new Dictionary<KnowledgeSource, SourceStats>(existing.Sources)
                : [];
            sources[record.Source] = sources.TryGetValue(record.Source, out var s)
                ? new SourceStats(s.Count + 1, record.At < s.FirstSeen ? record.At : s.FirstSeen, record.At > s.LastSeen ? record.At : s.LastSeen)
                : new SourceStats(1, record.At, record.At);
            _aggregates[mention.Id] = new EntityAggregate(mention.Id, mention.Name, sources);
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
                _aggregates.Remove(stale.Id);
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="k"/> personal entities for a context: every stored entity is scored by the strategy's
    /// weight times its relatedness to the context (1 when the context names it, else 0.5 + the share of its
    /// words the context's words cover, so related interests win over unrelated ones).
    /// </summary>
    public IReadOnlyList<RetrievedEntity> Retrieve(
        IReadOnlyCollection<string> contextEntityIds, IReadOnlyCollection<string> contextWords, RetrievalStrategy strategy, DateTimeOffset now, int k = 5)
    {
        var words = new HashSet<string>(contextWords.Select(TextNormalizer.Singular), StringComparer.Ordinal);
        var scored = new List<RetrievedEntity>();
        foreach (var entity in _aggregates.Values)
        {
            var weight = strategy switch
            {
                RetrievalStrategy.Familiar => entity.Count,
                RetrievalStrategy.Unfamiliar => 1.0 / (entity.Count + 1),
                RetrievalStrategy.Lapsed => now - entity.LastSeen >= _options.LapsedAfter ? entity.Count : 0,
                _ => entity.Sources.Values.Sum(s => s.Count * Math.Pow(2, -Math.Max(0, (now - s.LastSeen).TotalSeconds) / _options.HalfLife.TotalSeconds)),
            };
            if (weight <= 0)
            {
                continue;
            }

            var inContext = contextEntityIds.Contains(entity.Id);
            var tokens = TextNormalizer.Tokens(entity.Name).Select(TextNormalizer.Singular).ToArray();
            var overlap = tokens.Length == 0 ? 0 : (double)tokens.Count(words.Contains) / tokens.Length;
            scored.Add(new RetrievedEntity(entity, weight * (inContext ? 1 : 0.5 + (0.5 * overlap)), inContext));
        }

        return scored.OrderByDescending(s => s.Score).ThenByDescending(s => s.Entity.LastSeen).ThenBy(s => s.Entity.Id, StringComparer.Ordinal).Take(k).ToList();
    }
}
