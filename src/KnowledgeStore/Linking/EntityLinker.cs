namespace SessionRec.KnowledgeStore.Linking;

using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Text;

/// <summary>How an entity was found in a text.</summary>
public enum LinkMatch
{
    /// <summary>The text contains the entity's name (normal form).</summary>
    Exact,

    /// <summary>The text contains an alias: another case, the singular or plural, an abbreviation.</summary>
    Alias,

    /// <summary>No words matched, but the text's MiniLM vector is close to the entity name's.</summary>
    Semantic,
}

public sealed record EntityLink(Entity Entity, double Score, LinkMatch Match, string Span);

/// <summary>
/// Links a query or an item text to the graph's entities: exact and alias matches first (longest phrase wins,
/// left to right), then — for the words no alias covered — a semantic match of the whole text against the names
/// of the categories (phrases, where the graph has no catalogue), kept when the cosine reaches
/// <see cref="Threshold"/>. docs/knowledge.md gives how the threshold was chosen.
/// </summary>
public sealed class EntityLinker(EntityGraph graph, ITextEncoder? encoder = null, double threshold = EntityLinker.DefaultThreshold)
{
    public const double DefaultThreshold = 0.60;
    public const int MaxWords = 6;

    // Vectors of the names encoded so far: a rebuild after a catalogue change encodes only names it has not seen.
    private readonly Dictionary<string, float[]> _vectorsByName = new(StringComparer.Ordinal);
    private volatile SemanticIndex? _index;
    private int _building;

    public double Threshold { get; } = threshold;

    /// <summary>
    /// Off (offline evaluation): a stale semantic index is rebuilt in the calling thread. On (the service): the
    /// rebuild runs on the thread pool and links use the previous index (none, right after a start) until it is
    /// ready — encoding a catalogue's category names takes seconds, which a request must not wait for.
    /// </summary>
    public bool BuildIndexInBackground { get; init; }

    public IReadOnlyList<EntityLink> Link(string? text, bool semantic = true)
    {
        var tokens = TextNormalizer.Tokens(text);
        var singular = tokens.Select(TextNormalizer.Singular).ToArray();
        var links = new List<EntityLink>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var uncovered = 0;
        for (var i = 0; i < tokens.Length;)
        {
            var matched = 0;
            for (var n = Math.Min(MaxWords, tokens.Length - i); n >= 1 && matched == 0; n--)
            {
                if (n == 1 && TextNormalizer.IsStopWord(tokens[i]))
                {
                    break;
                }

                var key = string.Join(' ', singular.AsSpan(i, n).ToArray());
                var ids = graph.Lookup(key);
                if (ids.Count == 0)
                {
                    continue;
                }

                var span = string.Join(' ', tokens.AsSpan(i, n).ToArray());
                foreach (var id in ids.Order(StringComparer.Ordinal))
                {
                    var entity = graph.Get(id);
                    if (entity is not null && seen.Add(id))
                    {
                        var exact = TextNormalizer.Normalize(entity.Name) == span;
                        links.Add(new EntityLink(entity, exact ? 1.0 : 0.9, exact ? LinkMatch.Exact : LinkMatch.Alias, span));
                    }
                }

                matched = n;
            }

            if (matched == 0)
            {
                if (!TextNormalizer.IsStopWord(tokens[i]))
                {
                    uncovered++;
                }

                i++;
            }
            else
            {
                i += matched;
            }
        }

        if (semantic && encoder is not null && uncovered > 0)
        {
            links.AddRange(SemanticLinks(string.Join(' ', tokens)).Where(l => seen.Add(l.Entity.Id)));
        }

        return links;
    }

    /// <summary>The best semantic matches of a text among the categories (phrases when there are none), above the threshold.</summary>
    public IReadOnlyList<EntityLink> SemanticLinks(string text, int max = 3)
    {
        if (encoder is null || text.Length == 0)
        {
            return [];
        }

        var index = CurrentIndex();
        if (index is null || index.Entities.Count == 0)
        {
            return [];
        }

        // A search box sends the same short prefixes over and over: their links are kept per index (a MiniLM
        // encoding is most of a suggestion request's CPU), at most MaxCachedTexts, then the cache starts over.
        var cache = index.Links;
        if (cache.TryGetValue((text, max), out var cached))
        {
            return cached;
        }

        var vector = encoder.Encode([text])[0];
        IReadOnlyList<EntityLink> links = index.Entities.Select((e, i) => (Entity: e, Score: (double)Vectors.Dot(vector, index.Vectors[i])))
            .Where(s => s.Score >= Threshold).OrderByDescending(s => s.Score).ThenBy(s => s.Entity.Id, StringComparer.Ordinal).Take(max)
            .Select(s => new EntityLink(s.Entity, s.Score, LinkMatch.Semantic, text)).ToList();
        if (cache.Count >= MaxCachedTexts)
        {
            cache.Clear();
        }

        cache[(text, max)] = links;
        return links;
    }

    /// <summary>Texts whose semantic links one index keeps (~1 KB each).</summary>
    public const int MaxCachedTexts = 10_000;

    /// <summary>Starts (or, not in the background, does) the semantic index's build for the graph as it is now.</summary>
    public void PrepareSemanticIndex()
    {
        if (encoder is not null)
        {
            _ = CurrentIndex();
        }
    }

    /// <summary>
    /// The index for the graph's current version, or — while a background build runs — the previous one. The
    /// entities are read here, in the caller's turn (the graph is not thread-safe); only the encoding runs apart.
    /// </summary>
    private SemanticIndex? CurrentIndex()
    {
        var index = _index;
        if (index is not null && index.Version == graph.Version)
        {
            return index;
        }

        if (Interlocked.CompareExchange(ref _building, 1, 0) != 0)
        {
            return index;
        }

        var version = graph.Version;
        var entities = SemanticEntities();
        if (!BuildIndexInBackground)
        {
            return Build(version, entities);
        }

        _ = Task.Run(() => Build(version, entities));
        return index;
    }

    private SemanticIndex Build(long version, List<Entity> entities)
    {
        try
        {
            var missing = entities.Select(e => e.Name).Where(n => !_vectorsByName.ContainsKey(n)).Distinct(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                var encoded = encoder!.Encode(missing);
                for (var i = 0; i < missing.Count; i++)
                {
                    _vectorsByName[missing[i]] = encoded[i];
                }
            }

            var index = new SemanticIndex(version, entities, [.. entities.Select(e => _vectorsByName[e.Name])]);
            _index = index;
            return index;
        }
        finally
        {
            Volatile.Write(ref _building, 0);
        }
    }

    private List<Entity> SemanticEntities()
    {
        // Brand names are names: what they sound like says little about them, so brands link by alias only.
        var entities = graph.Entities.Where(e => e.Kind is EntityKind.Category).ToList();
        if (entities.Count == 0)
        {
            entities = [.. graph.Entities.Where(e => e.Kind == EntityKind.Phrase)];
        }

        entities.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return entities;
    }

    private sealed record SemanticIndex(long Version, IReadOnlyList<Entity> Entities, float[][] Vectors)
    {
        public System.Collections.Concurrent.ConcurrentDictionary<(string Text, int Max), IReadOnlyList<EntityLink>> Links { get; } = new();
    }
}
