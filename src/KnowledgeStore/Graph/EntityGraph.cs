namespace SessionRec.KnowledgeStore.Graph;

using System.Text.RegularExpressions;
using SessionRec.KnowledgeStore.Text;

/// <summary>
/// A tenant's knowledge graph, built from its catalogue (brands, every level of every category path, products,
/// attribute values, frequent title phrases) and from other texts (frequent query phrases), kept current as
/// items change. Every entity is reachable by aliases: its name in normal form with every word singular, so
/// case and plural/singular variants meet; abbreviations written in titles as "Eau de Toilette (EDT)" become
/// aliases of the phrase they abbreviate. Not thread-safe: one writer (the owner) at a time.
/// </summary>
public sealed partial class EntityGraph
{
    private readonly Dictionary<string, Entity> _entities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _references = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _aliases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _aliasKeysOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CatalogueEntry> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _itemEntities = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _phraseCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _phraseNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, int>> _related = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _children = new(StringComparer.Ordinal);

    // Read-side indexes, rebuilt lazily: sorted names for prefix completion (per Version), top related per entity
    // (dropped when the entity's relations change). Measured: without them a suggestion request scanned and
    // sorted tens of thousands of entities (~25 ms on the Beauty graph). Readers may run side by side while no one
    // writes (the service's replicas: many requests, one writer under a lock), so the indexes are filled safely:
    // a concurrent dictionary, and the sorted names swapped as one reference.
    private NameIndex _names = new(-1, [], []);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, List<(string Id, int Count)>> _topRelated = new(StringComparer.Ordinal);

    public EntityGraph(int minPhraseCount = 3, int maxPhraseWords = 3)
    {
        MinPhraseCount = minPhraseCount;
        MaxPhraseWords = maxPhraseWords;
    }

    /// <summary>A phrase becomes an entity once this many texts (titles, queries) contain it.</summary>
    public int MinPhraseCount { get; }

    public int MaxPhraseWords { get; }

    /// <summary>Changes whenever an entity appears or disappears (caches of entity vectors key on it).</summary>
    public long Version { get; private set; }

    /// <summary>Changes with every change of the graph (items, texts), relations included.</summary>
    public long Revision { get; private set; }

    public int Count => _entities.Count;

    public IEnumerable<Entity> Entities => _entities.Values;

    public Entity? Get(string id) => _entities.GetValueOrDefault(id);

    /// <summary>The entities an alias key (<see cref="TextNormalizer.SingularKey"/>) names.</summary>
    public IReadOnlyCollection<string> Lookup(string aliasKey) =>
        _aliases.TryGetValue(aliasKey, out var ids) ? ids : (IReadOnlyCollection<string>)[];

    /// <summary>The entities an item is linked to: its product, brand, categories, attribute values and title phrases.</summary>
    public IEnumerable<Entity> EntitiesOf(string itemId) =>
        _itemEntities.TryGetValue(itemId, out var ids) ? ids.Select(Get).OfType<Entity>() : [];

    public CatalogueEntry? Item(string itemId) => _items.GetValueOrDefault(itemId);

    /// <summary>Category nodes directly under a category.</summary>
    public IEnumerable<Entity> Children(string categoryId) =>
        _children.TryGetValue(categoryId, out var ids) ? ids.Order(StringComparer.Ordinal).Select(Get).OfType<Entity>() : [];

    /// <summary>The (at most 50) entities that appear most often together with this one on items or in texts.</summary>
    public IEnumerable<(Entity Entity, int Count)> Related(string entityId)
    {
        if (!_topRelated.TryGetValue(entityId, out var top))
        {
            top = _related.TryGetValue(entityId, out var related)
                ? [.. related.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Take(50).Select(r => (r.Key, r.Value))]
                : [];
            _topRelated[entityId] = top;
        }

        return top.Select(r => (Get(r.Id), r.Count)).Where(r => r.Item1 is not null).Select(r => (r.Item1!, r.Count));
    }

    /// <summary>
    /// Up to <paramref name="limit"/> non-product entities whose name (normal form) starts with the prefix, shortest
    /// first (among the first 2,000 names in order). A search box sends the same short prefixes over and over, so
    /// answers are kept per graph version (at most <see cref="MaxCachedPrefixes"/>, then the cache starts over).
    /// </summary>
    public IReadOnlyList<Entity> NamesStartingWith(string normalizedPrefix, int limit)
    {
        var index = _names;
        if (index.Version != Version)
        {
            var pairs = _entities.Values.Where(e => e.Kind != EntityKind.Product)
                .Select(e => (Name: TextNormalizer.Normalize(e.Name), e.Id)).OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Id, StringComparer.Ordinal).ToArray();
            _names = index = new NameIndex(Version, [.. pairs.Select(p => p.Name)], [.. pairs.Select(p => p.Id)]);
        }

        if (index.Completions.TryGetValue((normalizedPrefix, limit), out var cached))
        {
            return cached;
        }

        var (_, names, ids) = index;
        var at = Array.BinarySearch(names, normalizedPrefix, StringComparer.Ordinal);
        var matches = new List<(string Name, string Id)>();
        for (var i = at < 0 ? ~at : at; i < names.Length && names[i].StartsWith(normalizedPrefix, StringComparison.Ordinal); i++)
        {
            matches.Add((names[i], ids[i]));
            if (matches.Count == 2_000)
            {
                break;
            }
        }

        Entity[] result = [.. matches.OrderBy(m => m.Name.Length).ThenBy(m => m.Id, StringComparer.Ordinal).Select(m => Get(m.Id)).OfType<Entity>().Take(limit)];
        if (index.Completions.Count >= MaxCachedPrefixes)
        {
            index.Completions.Clear();
        }

        index.Completions[(normalizedPrefix, limit)] = result;
        return result;
    }

    /// <summary>Prefixes whose completions one graph version keeps (a few hundred bytes each).</summary>
    public const int MaxCachedPrefixes = 10_000;

    /// <summary>Adds or replaces a catalogue item and everything it names.</summary>
    public void Upsert(CatalogueEntry item)
    {
        Remove(item.Id);
        Revision++;
        _items[item.Id] = item;
        var ids = new List<string>();
        var name = string.IsNullOrWhiteSpace(item.Title) ? item.Id : item.Title!;
        ids.Add(Reference(new Entity("product:" + item.Id, EntityKind.Product, name)));
        if (!string.IsNullOrWhiteSpace(item.Brand))
        {
            ids.Add(Reference(new Entity("brand:" + TextNormalizer.Normalize(item.Brand), EntityKind.Brand, item.Brand.Trim())));
        }

        string? parent = null;
        var path = "";
        foreach (var level in item.Categories.Where(c => !string.IsNullOrWhiteSpace(c)))
        {
            path = path.Length == 0 ? TextNormalizer.Normalize(level) : path + "/" + TextNormalizer.Normalize(level);
            var id = "category:" + path;
            ids.Add(Reference(new Entity(id, EntityKind.Category, level.Trim(), parent)));
            parent = id;
        }

        foreach (var (key, value) in item.Attributes ?? new Dictionary<string, string>())
        {
            if (!string.IsNullOrWhiteSpace(value) && value.Length <= 40)
            {
                ids.Add(Reference(new Entity($"attribute:{TextNormalizer.Normalize(key)}={TextNormalizer.Normalize(value)}", EntityKind.Attribute, value.Trim())));
            }
        }

        ids.AddRange(CountPhrases(item.Title, +1));
        AddAbbreviations(item.Title);
        _itemEntities[item.Id] = ids;
        Relate(ids, +1);
    }

    public bool Remove(string itemId)
    {
        if (!_items.Remove(itemId, out var item))
        {
            return false;
        }

        Revision++;
        var ids = _itemEntities[itemId];
        _itemEntities.Remove(itemId);
        Relate(ids, -1);
        CountPhrases(item.Title, -1);
        foreach (var id in ids.Where(id => !id.StartsWith("phrase:", StringComparison.Ordinal)))
        {
            Release(id);
        }

        return true;
    }

    /// <summary>Counts phrases in other texts (a query log, page titles): frequent ones become entities.</summary>
    public void AddTexts(IEnumerable<string> texts)
    {
        Revision++;
        foreach (var text in texts)
        {
            Relate(CountPhrases(text, +1), +1);
        }
    }

    private string Reference(Entity entity)
    {
        if (_references.TryGetValue(entity.Id, out var count))
        {
            _references[entity.Id] = count + 1;
            return entity.Id;
        }

        _references[entity.Id] = 1;
        _entities[entity.Id] = entity;
        if (entity.Parent is not null)
        {
            if (!_children.TryGetValue(entity.Parent, out var siblings))
            {
                _children[entity.Parent] = siblings = new HashSet<string>(StringComparer.Ordinal);
            }

            siblings.Add(entity.Id);
        }

        AddAlias(TextNormalizer.SingularKey(entity.Name), entity.Id);
        Version++;
        return entity.Id;
    }

    private void Release(string id)
    {
        if (!_references.TryGetValue(id, out var count))
        {
            return;
        }

        if (count > 1)
        {
            _references[id] = count - 1;
            return;
        }

        _references.Remove(id);
        if (_entities.Remove(id, out var entity))
        {
            if (entity.Parent is not null && _children.TryGetValue(entity.Parent, out var siblings))
            {
                siblings.Remove(id);
            }

            // Only the entity's own alias keys (its name, abbreviations): a scan of every alias made removing an
            // item from a large catalogue cost a pass over the whole alias table per released entity.
            foreach (var key in _aliasKeysOf.Remove(id, out var keys) ? keys : [])
            {
                if (_aliases.TryGetValue(key, out var set) && set.Remove(id) && set.Count == 0)
                {
                    _aliases.Remove(key);
                }
            }

            Version++;
        }
    }

    private void AddAlias(string key, string id)
    {
        if (key.Length == 0)
        {
            return;
        }

        if (!_aliases.TryGetValue(key, out var set))
        {
            _aliases[key] = set = new HashSet<string>(StringComparer.Ordinal);
        }

        set.Add(id);
        if (!_aliasKeysOf.TryGetValue(id, out var keys))
        {
            _aliasKeysOf[id] = keys = new HashSet<string>(StringComparer.Ordinal);
        }

        keys.Add(key);
    }

    /// <summary>Counts the text's distinct phrases (1..MaxPhraseWords words, not starting or ending with a stop word); returns the phrase entities it contains.</summary>
    private List<string> CountPhrases(string? text, int delta)
    {
        var tokens = TextNormalizer.Tokens(text);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entities = new List<string>();
        for (var n = 1; n <= MaxPhraseWords; n++)
        {
            for (var i = 0; i + n <= tokens.Length; i++)
            {
                if (TextNormalizer.IsStopWord(tokens[i]) || TextNormalizer.IsStopWord(tokens[i + n - 1]) || (n == 1 && (tokens[i].Length < 3 || tokens[i].All(char.IsDigit))))
                {
                    continue;
                }

                var words = tokens.AsSpan(i, n).ToArray();
                var key = string.Join(' ', words.Select(TextNormalizer.Singular));
                if (!seen.Add(key))
                {
                    continue;
                }

                var count = _phraseCounts.GetValueOrDefault(key) + delta;
                var id = "phrase:" + key;
                if (count <= 0)
                {
                    _phraseCounts.Remove(key);
                }
                else
                {
                    _phraseCounts[key] = count;
                    _phraseNames.TryAdd(key, string.Join(' ', words));
                }

                if (delta > 0 && count == MinPhraseCount)
                {
                    Reference(new Entity(id, EntityKind.Phrase, _phraseNames[key]));
                }
                else if (delta < 0 && count == MinPhraseCount - 1)
                {
                    Release(id);
                }

                if (count >= MinPhraseCount)
                {
                    entities.Add(id);
                }
            }
        }

        return entities;
    }

    private void AddAbbreviations(string? title)
    {
        if (string.IsNullOrEmpty(title))
        {
            return;
        }

        foreach (Match match in Abbreviation().Matches(title))
        {
            var abbreviation = match.Groups["abbr"].Value;
            var words = TextNormalizer.Tokens(match.Groups["words"].Value);
            if (words.Length < abbreviation.Length)
            {
                continue;
            }

            // The abbreviation's letters must be the initials of the words right before it ("de" included).
            var expansion = words[^abbreviation.Length..];
            if (!string.Concat(expansion.Select(w => w[0])).Equals(abbreviation, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var key = string.Join(' ', expansion.Select(TextNormalizer.Singular));
            var id = Reference(new Entity("phrase:" + key, EntityKind.Phrase, string.Join(' ', expansion)));
            AddAlias(TextNormalizer.Normalize(abbreviation), id);
        }
    }

    private void Relate(List<string> ids, int delta)
    {
        var distinct = ids.Distinct(StringComparer.Ordinal).Where(id => !id.StartsWith("product:", StringComparison.Ordinal)).ToList();
        foreach (var a in distinct)
        {
            _topRelated.TryRemove(a, out _);
            foreach (var b in distinct)
            {
                if (a == b)
                {
                    continue;
                }

                if (!_related.TryGetValue(a, out var map))
                {
                    _related[a] = map = new Dictionary<string, int>(StringComparer.Ordinal);
                }

                var value = map.GetValueOrDefault(b) + delta;
                if (value <= 0)
                {
                    map.Remove(b);
                }
                else
                {
                    map[b] = value;
                }
            }
        }
    }

    [GeneratedRegex(@"(?<words>[\p{L}][\p{L}\s\-]{2,80}?)\s*\((?<abbr>[A-Z]{2,6})\)")]
    private static partial Regex Abbreviation();

    private sealed record NameIndex(long Version, string[] Names, string[] Ids)
    {
        public System.Collections.Concurrent.ConcurrentDictionary<(string Prefix, int Limit), Entity[]> Completions { get; } = new();
    }
}
