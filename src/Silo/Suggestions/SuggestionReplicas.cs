namespace SessionRec.Silo.Suggestions;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.Knowledge;
using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.KnowledgeStore.Text;
using SessionRec.Silo.Knowledge;
using SessionRec.Silo.Replicas;

/// <summary>
/// This silo's suggestion serving: per served tenant, the knowledge graph of its catalogue (built from this
/// silo's catalogue replica and following the same change feed), the blocklist, and the query-log snapshot replica
/// (<see cref="QueryLogReplicas"/>). Any number of requests run side by side on every core: they read the graph under
/// a shared lock that only a catalogue change (rare next to requests) takes exclusively, and the query log from an
/// immutable snapshot. Nothing here reads the click log. Memory per served tenant: the graph (entities, aliases,
/// relations of the catalogue) and one query-log snapshot.
/// </summary>
public sealed partial class SuggestionReplicas : ICatalogueReplicaObserver
{
    /// <summary>How long a tenant's first request on a silo waits for the graph before it is served from the query log alone.</summary>
    public static readonly TimeSpan GraphWait = TimeSpan.FromSeconds(1);

    private const int MaxEntitiesPerItem = 12;

    // Items whose links are kept per silo and tenant (~200 B each: the title is the catalogue's string).
    private const int MaxLinkedItems = 100_000;
    private static readonly TimeSpan BlocklistPoll = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Replica> _tenants = new(StringComparer.Ordinal);
    private readonly CatalogueReplicas _catalogue;
    private readonly QueryLogReplicas _queries;
    private readonly SuggestionBlocklistStore _blocklists;
    private readonly SemanticEncoder _encoder;
    private readonly KnowledgeServiceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SuggestionReplicas> _logger;

    public SuggestionReplicas(
        CatalogueReplicas catalogue,
        QueryLogReplicas queries,
        SuggestionBlocklistStore blocklists,
        SemanticEncoder encoder,
        IOptions<KnowledgeServiceOptions> options,
        TimeProvider time,
        ILogger<SuggestionReplicas> logger)
    {
        (_catalogue, _queries, _blocklists, _encoder, _options, _time, _logger) = (catalogue, queries, blocklists, encoder, options.Value, time, logger);
        catalogue.Subscribe(this);
    }

    /// <summary>The retrieval pipeline's suggestions for one request, personalised by <paramref name="knowledge"/> when given.</summary>
    public async Task<SuggestionList> SuggestAsync(string tenant, SuggestionRequest request, UserKnowledge? knowledge)
    {
        var replica = await ReadyAsync(tenant);
        var queries = await _queries.GetAsync(tenant);
        var blocklist = replica.Blocklist;
        Interlocked.Increment(ref replica.Served);
        replica.Lock.EnterReadLock();
        try
        {
            var graph = replica.Graph;
            var linker = replica.Linker;
            var engine = new SuggestionEngine(graph, linker, queries, new SuggestionOptions { Strategy = _options.Strategy }, replica.Grounded) { Blocklist = blocklist };
            var contextTitle = request.ContextItem is null ? null : graph.Item(request.ContextItem)?.Title;
            var context = new SuggestionContext(request.Prefix, request.SessionQueries, contextTitle, request.Now);
            var outcome = engine.SuggestWithGrounds(context, knowledge, request.K);
            var items = new SuggestionView[outcome.Suggestions.Count];
            for (var i = 0; i < items.Length; i++)
            {
                var s = outcome.Suggestions[i];
                var entities = new EntityRef[s.Entities.Count];
                for (var j = 0; j < entities.Length; j++)
                {
                    entities[j] = new EntityRef(s.Entities[j].Id, s.Entities[j].Name);
                }

                items[i] = new SuggestionView(s.Text, s.Source, entities, s.Rationale, s.Score);
            }

            return new SuggestionList(
                items,
                contextTitle,
                [.. outcome.PersonalEntities.Select(r => new EntityRef(r.Entity.Id, r.Entity.Name))],
                [.. outcome.ContextEntities.Select(e => new EntityRef(e.Id, e.Name))]);
        }
        finally
        {
            replica.Lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Links texts and items to the graph's entities (what a user's knowledge store records); null while the
    /// tenant's graph is not built on this silo (the caller folds those records later). An item's link is made once
    /// per graph revision and shared by every store that records the item (it is immutable): a store of 500
    /// viewed items would otherwise hold ~5,000 mentions of its own.
    /// </summary>
    public async Task<IReadOnlyList<LinkedText>?> LinkAsync(string tenant, IReadOnlyList<LinkInput> inputs)
    {
        var replica = await ReadyAsync(tenant);
        if (!replica.Ready)
        {
            return null;
        }

        replica.Lock.EnterReadLock();
        try
        {
            var items = replica.ItemLinks();
            var result = new LinkedText[inputs.Count];
            for (var i = 0; i < inputs.Count; i++)
            {
                var input = inputs[i];

                // Records link by alias only: deterministic, and cheap enough to replay a long history.
                result[i] = (input.ItemId is null ? null : LinkItem(replica.Graph, items, input.ItemId))
                    ?? LinkText(replica.Linker, input.Text ?? input.ItemId ?? "");
            }

            return result;
        }
        finally
        {
            replica.Lock.ExitReadLock();
        }
    }

    /// <summary>An item's title and entities, from this graph revision's links; null when the graph has no such item.</summary>
    private static LinkedText? LinkItem(EntityGraph graph, ConcurrentDictionary<string, LinkedText> items, string itemId)
    {
        if (items.TryGetValue(itemId, out var linked))
        {
            return linked;
        }

        if (graph.Item(itemId) is not { } item)
        {
            return null;
        }

        var entities = graph.EntitiesOf(itemId).OrderBy(e => e.Kind == EntityKind.Phrase ? 1 : 0).Take(MaxEntitiesPerItem);
        linked = new LinkedText(item.Title ?? item.Id, [.. entities.Select(e => new EntityMention(e.Id, e.Name))]);
        if (items.Count < MaxLinkedItems)
        {
            items.TryAdd(itemId, linked);
        }

        return linked;
    }

    private static LinkedText LinkText(EntityLinker linker, string text) =>
        new(text, [.. linker.Link(text, semantic: false).Select(l => new EntityMention(l.Entity.Id, l.Entity.Name))]);

    /// <summary>The texts the tenant's blocklist lets through, in order (suggestions made elsewhere: the LLM's).</summary>
    public async Task<IReadOnlyList<string>> AllowedAsync(string tenant, IReadOnlyList<string> texts)
    {
        var blocklist = (await ReadyAsync(tenant)).Blocklist;
        return [.. texts.Where(t => !blocklist.Blocks(t))];
    }

    /// <summary>The tenant's blocklist changed in the store: load it now.</summary>
    public async Task BlocklistChangedAsync(string tenant)
    {
        if (_tenants.TryGetValue(tenant, out var replica))
        {
            await LoadBlocklistAsync(tenant, replica);
        }
    }

    /// <summary>The tenant's query log was republished (an erasure): load it now.</summary>
    public Task QueryLogPublishedAsync(string tenant) => _queries.RefreshIfHeldAsync(tenant);

    /// <summary>What this silo holds for the tenant's suggestions (operations and tests: where a tenant is served).</summary>
    public (int GraphEntities, long QueryLogPosition, int OfferedQueries, long Served) Describe(string tenant) =>
        (_tenants.TryGetValue(tenant, out var replica) && replica.Ready ? replica.Graph.Count : 0,
            _queries.PositionOf(tenant),
            _queries.Peek(tenant)?.Count ?? 0,
            replica?.Served ?? 0);

    void ICatalogueReplicaObserver.Applied(string tenant, IReadOnlyList<CatalogueItem> changed, IReadOnlyList<string> removed)
    {
        if (!_tenants.TryGetValue(tenant, out var replica))
        {
            return;
        }

        lock (replica)
        {
            if (!replica.Ready)
            {
                // The build reads the catalogue replica as it is; what changes meanwhile is applied after it.
                replica.DuringBuild.AddRange(changed.Select(c => ((CatalogueItem?)c, (string?)null)));
                replica.DuringBuild.AddRange(removed.Select(r => ((CatalogueItem?)null, (string?)r)));
                return;
            }
        }

        replica.Lock.EnterWriteLock();
        try
        {
            foreach (var item in changed)
            {
                replica.Graph.Upsert(ToEntry(item));
            }

            foreach (var id in removed)
            {
                replica.Graph.Remove(id);
            }

            replica.Linker.PrepareSemanticIndex();
        }
        finally
        {
            replica.Lock.ExitWriteLock();
        }
    }

    void ICatalogueReplicaObserver.Reloaded(string tenant)
    {
        if (_tenants.TryGetValue(tenant, out var replica))
        {
            lock (replica)
            {
                if (replica.Ready)
                {
                    replica.Ready = false;
                    replica.Build = Task.Run(() => BuildAsync(tenant, replica));
                }
            }
        }
    }

    /// <summary>The tenant's replica, its graph built (waited for at most <see cref="GraphWait"/>) and its blocklist loaded.</summary>
    private async ValueTask<Replica> ReadyAsync(string tenant)
    {
        var replica = _tenants.GetOrAdd(tenant, _ =>
        {
            var empty = new EntityGraph();
            return new Replica(empty, NewLinker(empty));
        });
        Task? build = null;
        if (!replica.Ready)
        {
            lock (replica)
            {
                build = replica.Ready ? null : replica.Build is { IsFaulted: false } running ? running : replica.Build = Task.Run(() => BuildAsync(tenant, replica));
            }
        }

        if (build is not null)
        {
            // Still building (a large catalogue, or one still loading on this silo): served without the graph meanwhile.
            await Task.WhenAny(build, Task.Delay(GraphWait, _time));
        }

        if (!replica.BlocklistLoaded)
        {
            await LoadBlocklistAsync(tenant, replica);
        }
        else if (_time.GetUtcNow() - replica.BlocklistCheckedAt >= BlocklistPoll && Interlocked.CompareExchange(ref replica.BlocklistRefreshing, 1, 0) == 0)
        {
            _ = Task.Run(() => LoadBlocklistAsync(tenant, replica));
        }

        return replica;
    }

    private async Task BuildAsync(string tenant, Replica replica)
    {
        var started = _time.GetTimestamp();
        var catalogue = await _catalogue.LoadedAsync(tenant);
        var graph = new EntityGraph();
        foreach (var item in catalogue.Items.Values)
        {
            graph.Upsert(ToEntry(item));
        }

        var linker = NewLinker(graph);
        replica.Lock.EnterWriteLock();
        try
        {
            lock (replica)
            {
                foreach (var (upserted, removed) in replica.DuringBuild)
                {
                    if (upserted is not null)
                    {
                        graph.Upsert(ToEntry(upserted));
                    }
                    else
                    {
                        graph.Remove(removed!);
                    }
                }

                replica.DuringBuild.Clear();
                replica.Graph = graph;
                replica.Linker = linker;
                replica.Grounded = new GroundedQueries(graph);
                replica.Ready = true;
            }
        }
        finally
        {
            replica.Lock.ExitWriteLock();
        }

        linker.PrepareSemanticIndex();
        LogGraphBuilt(_logger, tenant, graph.Count, _time.GetElapsedTime(started).TotalSeconds);
    }

    private async Task LoadBlocklistAsync(string tenant, Replica replica)
    {
        try
        {
            var stored = await _blocklists.LoadAsync(tenant);
            replica.Blocklist = stored.Union(new SuggestionBlocklist(_options.BlockedPhrases, _options.BlockedPatterns));
            replica.BlocklistLoaded = true;
            replica.BlocklistCheckedAt = _time.GetUtcNow();
        }
        catch (Exception e) when (Storage.StoreFailures.IsStoreError(e) && replica.BlocklistLoaded)
        {
            // Keep the list we have; the next poll tries again.
            replica.BlocklistCheckedAt = _time.GetUtcNow();
        }
        finally
        {
            replica.BlocklistRefreshing = 0;
        }
    }

    private EntityLinker NewLinker(EntityGraph graph) =>
        new(graph, _options.SemanticLinking ? _encoder : null) { BuildIndexInBackground = true };

    private static CatalogueEntry ToEntry(CatalogueItem item) => new(item.Id, item.Title, item.Brand, item.Categories, item.Attributes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: knowledge graph built on this silo ({Entities} entities, {Seconds:0.0} s)")]
    private static partial void LogGraphBuilt(ILogger logger, string tenant, int entities, double seconds);

    private sealed class Replica(EntityGraph graph, EntityLinker linker)
    {
        // Requests read the graph under the shared side; applying a catalogue change takes the exclusive side.
        public readonly ReaderWriterLockSlim Lock = new(LockRecursionPolicy.NoRecursion);
        public readonly List<(CatalogueItem? Upserted, string? Removed)> DuringBuild = [];
        public EntityGraph Graph = graph;
        public EntityLinker Linker = linker;
        public GroundedQueries Grounded = new(graph);
        public Task? Build;
        public volatile bool Ready;
        public volatile SuggestionBlocklist Blocklist = SuggestionBlocklist.Empty;
        public volatile bool BlocklistLoaded;
        public DateTimeOffset BlocklistCheckedAt = DateTimeOffset.MinValue;
        public int BlocklistRefreshing;
        public long Served;
        // Swapped whole (a reference): requests on other threads read a revision and its links together.
        private ItemLinkCache _itemLinks = new(-1);

        /// <summary>The items linked so far under the graph's revision (a change to the graph starts them over). Under the read lock.</summary>
        public ConcurrentDictionary<string, LinkedText> ItemLinks()
        {
            var current = _itemLinks;
            if (current.Revision != Graph.Revision)
            {
                current = new ItemLinkCache(Graph.Revision);
                _itemLinks = current;
            }

            return current.Items;
        }

        private sealed class ItemLinkCache(long revision)
        {
            public long Revision { get; } = revision;

            public ConcurrentDictionary<string, LinkedText> Items { get; } = new(StringComparer.Ordinal);
        }
    }
}

/// <summary>An item, or a text (a query), to link to the graph's entities.</summary>
public sealed record LinkInput(string? ItemId, string? Text);

/// <summary>A text (an item's title, or the text given) and the entities it links to, as a knowledge store records them.</summary>
public sealed record LinkedText(string Text, IReadOnlyList<EntityMention> Entities);
