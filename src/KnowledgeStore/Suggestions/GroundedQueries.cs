namespace SessionRec.KnowledgeStore.Suggestions;

using System.Collections.Concurrent;
using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Text;

/// <summary>A query grounded in an entity, with its normal form, its words (singular, no stop words) and the entities it names.</summary>
public sealed record GroundedQuery(string Text, string Key, string[] Words, EntityMention[] Entities, string Why);

/// <summary>
/// The queries grounded in each entity of a graph: its name, brand + top categories, category refinements,
/// frequent companions. They depend on the graph alone, and a search box asks for the same few entities over and
/// over, so each entity's list is built once per graph revision (any catalogue change starts over), at most
/// <see cref="MaxCachedEntities"/> lists (~2 KB each), then the cache starts over. Safe for readers side by side
/// while the graph does not change (the service's replicas change it under a write lock).
/// </summary>
public sealed class GroundedQueries(EntityGraph graph)
{
    public const int MaxCachedEntities = 5_000;

    private Cache _cache = new(-1);

    public IReadOnlyList<GroundedQuery> For(Entity entity)
    {
        // Entities the graph does not hold as they are (a user's entity since removed, a renamed completion) are
        // built every time: the cache keys on the graph's own entities.
        if (!ReferenceEquals(graph.Get(entity.Id), entity))
        {
            return Build(entity);
        }

        var cache = _cache;
        if (cache.Revision != graph.Revision)
        {
            _cache = cache = new Cache(graph.Revision);
        }

        if (cache.Lists.TryGetValue(entity.Id, out var cached))
        {
            return cached;
        }

        var built = Build(entity);
        if (cache.Lists.Count >= MaxCachedEntities)
        {
            cache.Lists.Clear();
        }

        cache.Lists[entity.Id] = built;
        return built;
    }

    private GroundedQuery[] Build(Entity entity)
    {
        var queries = new List<GroundedQuery>();
        void Add(string text, EntityMention[] entities, string why)
        {
            var key = TextNormalizer.Normalize(text);
            queries.Add(new GroundedQuery(text, key, TextNormalizer.ContentWords(key), entities, why));
        }

        var self = new EntityMention(entity.Id, entity.Name);
        if (entity.Kind != EntityKind.Product)
        {
            Add(entity.Name, [self], $"{Entity.KindName(entity.Kind)} {entity.Name}");
        }

        foreach (var (other, _) in graph.Related(entity.Id).Take(12))
        {
            var mention = new EntityMention(other.Id, other.Name);
            switch (entity.Kind, other.Kind)
            {
                case (EntityKind.Brand, EntityKind.Category):
                    Add($"{entity.Name} {other.Name}", [self, mention], $"{entity.Name} makes {other.Name}");
                    break;
                case (EntityKind.Category, EntityKind.Brand):
                    Add($"{other.Name} {entity.Name}", [mention, self], $"{other.Name} is a brand in {entity.Name}");
                    break;
                case (EntityKind.Phrase, EntityKind.Phrase):
                    if (!TextNormalizer.Tokens(entity.Name).Intersect(TextNormalizer.Tokens(other.Name)).Any())
                    {
                        Add($"{entity.Name} {other.Name}", [self, mention], $"often searched together with {entity.Name}");
                    }

                    break;
            }
        }

        if (entity.Kind == EntityKind.Category)
        {
            foreach (var child in graph.Children(entity.Id).Take(5))
            {
                Add(child.Name, [new EntityMention(child.Id, child.Name)], $"a kind of {entity.Name}");
            }
        }

        return [.. queries];
    }

    private sealed record Cache(long Revision)
    {
        public ConcurrentDictionary<string, GroundedQuery[]> Lists { get; } = new(StringComparer.Ordinal);
    }
}
