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

    private long _indexedVersion = -1;
    private List<Entity> _semanticEntities = [];
    private float[][] _semanticVectors = [];

    public double Threshold { get; } = threshold;

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

        Index();
        if (_semanticEntities.Count == 0)
        {
            return [];
        }

        var vector = encoder.Encode([text])[0];
        return _semanticEntities.Select((e, i) => (Entity: e, Score: (double)Vectors.Dot(vector, _semanticVectors[i])))
            .Where(s => s.Score >= Threshold).OrderByDescending(s => s.Score).ThenBy(s => s.Entity.Id, StringComparer.Ordinal).Take(max)
            .Select(s => new EntityLink(s.Entity, s.Score, LinkMatch.Semantic, text)).ToList();
    }

    private void Index()
    {
        if (_indexedVersion == graph.Version)
        {
            return;
        }

        // Brand names are names: what they sound like says little about them, so brands link by alias only.
        var entities = graph.Entities.Where(e => e.Kind is EntityKind.Category).ToList();
        if (entities.Count == 0)
        {
            entities = [.. graph.Entities.Where(e => e.Kind == EntityKind.Phrase)];
        }

        entities.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        _semanticVectors = encoder!.Encode([.. entities.Select(e => e.Name)]);
        _semanticEntities = entities;
        _indexedVersion = graph.Version;
    }
}
