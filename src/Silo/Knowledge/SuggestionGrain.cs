namespace SessionRec.Silo.Knowledge;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.Silo.Catalogue;
using StackExchange.Redis;

/// <summary>
/// A tenant's knowledge graph and query log with the suggestion pipeline. The graph is built from the catalogue
/// store on activation and then follows item changes the catalogue grain pushes; the query log is rebuilt from the
/// click log's searches (transitions within a user's 30-minute session) and follows its tail. Suggestions run off
/// the grain scheduler (MiniLM is CPU work); the grain is not reentrant, so nothing changes the graph meanwhile.
/// </summary>
public sealed class SuggestionGrain(
    RedisCatalogueStore store,
    IClickLog clickLog,
    SemanticEncoder encoder,
    SuggestionBlocklistStore blocklists,
    IOptions<KnowledgeServiceOptions> options,
    IOptions<RecommenderOptions> recommenderOptions,
    IOptions<Sessions.SessionOptions> sessionOptions) : Grain, ISuggestionGrain
{
    // Also the most log records one turn reads (see CatchUpStepAsync).
    private const int ReadBatch = 5_000;
    private const int MaxEntitiesPerItem = 12;

    // How long an activation waits for the catalogue's graph before it serves without it (the response timeout is 5 s).
    private static readonly TimeSpan GraphWait = TimeSpan.FromSeconds(1);

    // Changes pushed while the catalogue's graph is built (replayed on it when it is ready: Upsert replaces).
    private readonly List<(CatalogueItem? Upserted, string? Removed)> _changesDuringBuild = [];
    private EntityGraph _graph = new();
    private Task<EntityGraph>? _graphBuild;
    private readonly QueryLog _log = new();
    private readonly Dictionary<string, (string Query, DateTimeOffset At)> _lastQuery = new(StringComparer.Ordinal);
    private EntityLinker _linker = null!;
    private SuggestionEngine _engine = null!;
    private long _nextSequence = 1;
    private bool _catchUpQueued;
    private SuggestionBlocklist _tenantBlocklist = SuggestionBlocklist.Empty;
    private SuggestionBlocklist _blocklist = SuggestionBlocklist.Empty;

    private string Tenant => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Building the catalogue's graph takes seconds (~7 s for Beauty's 12k items here, on a busy machine): it
        // runs on the thread pool, and until it is ready suggestions come from the query log alone.
        // A small catalogue is ready within the wait, and the activation then starts with it.
        Use(new EntityGraph());
        _graphBuild = Task.Run(BuildGraphAsync, CancellationToken.None);
        try
        {
            await _graphBuild.WaitAsync(GraphWait, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            // Still building (or failed: GraphReady starts it again); the activation goes on without it.
        }

        GraphReady();
        _log.MinUsers = options.Value.MinDistinctUsersFor(Tenant);
        ApplyBlocklist(await blocklists.LoadAsync(Tenant));
        var last = await clickLog.LastSequenceAsync(Tenant, cancellationToken);
        _nextSequence = Math.Max(1, last - recommenderOptions.Value.RebuildMaxEvents + 1);
        await CatchUpStepAsync();
        this.RegisterGrainTimer(
            static (grain, _) => grain.CatchUpStepAsync(),
            this,
            new GrainTimerCreationOptions(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)) { KeepAlive = false });
    }

    public async Task<SuggestionList> SuggestAsync(SuggestionRequest request)
    {
        GraphReady();

        // Caught up, a request reads the log's newest records first (a search just made shows at once); while a
        // rebuild's next step is queued, it is served from what the steps have read so far.
        if (!_catchUpQueued)
        {
            await CatchUpStepAsync();
        }

        var knowledge = request.Knowledge is null ? null : KnowledgeMapping.ToStore(request.Knowledge, options.Value.ToStoreOptions());
        var contextTitle = request.ContextItem is null ? null : _graph.Item(request.ContextItem)?.Title;
        var context = new SuggestionContext(request.Prefix, request.SessionQueries, contextTitle, request.Now);
        return await Task.Run(() =>
        {
            var suggestions = _engine.Suggest(context, knowledge, request.K);
            var contextLinks = _linker.Link(request.Prefix).Concat(_linker.Link(contextTitle, semantic: false))
                .Select(l => new EntityRef(l.Entity.Id, l.Entity.Name)).DistinctBy(e => e.Id).ToList();
            var words = KnowledgeStore.Text.TextNormalizer.Tokens(string.Join(' ', request.SessionQueries.Append(request.Prefix).Append(contextTitle ?? "")));
            var personal = knowledge?.Retrieve(contextLinks.Select(e => e.Id).ToHashSet(StringComparer.Ordinal), words, options.Value.Strategy, request.Now)
                .Select(r => new EntityRef(r.Entity.Id, r.Entity.Name)).ToList() ?? [];
            return new SuggestionList(
                [.. suggestions.Select(s => new SuggestionView(s.Text, s.Source, [.. s.Entities.Select(e => new EntityRef(e.Id, e.Name))], s.Rationale, s.Score))],
                contextTitle, personal, contextLinks);
        });
    }

    public Task<IReadOnlyList<Description>> DescribeAsync(IReadOnlyList<DescribeInput> inputs)
    {
        if (!GraphReady())
        {
            // Nothing is described against a graph without the catalogue: the caller folds these records later.
            return Task.FromResult<IReadOnlyList<Description>>([]);
        }

        var result = new List<Description>(inputs.Count);
        foreach (var input in inputs)
        {
            if (input.ItemId is not null && _graph.Item(input.ItemId) is { } item)
            {
                var entities = _graph.EntitiesOf(input.ItemId).OrderBy(e => e.Kind == EntityKind.Phrase ? 1 : 0).Take(MaxEntitiesPerItem);
                result.Add(new Description(item.Title ?? item.Id, [.. entities.Select(e => new EntityRef(e.Id, e.Name))]));
            }
            else
            {
                // Records link by alias only: deterministic, and cheap enough to replay a long history.
                var text = input.Text ?? input.ItemId ?? "";
                result.Add(new Description(text, [.. _linker.Link(text, semantic: false).Select(l => new EntityRef(l.Entity.Id, l.Entity.Name))]));
            }
        }

        return Task.FromResult<IReadOnlyList<Description>>(result);
    }

    public Task ItemsChangedAsync(IReadOnlyList<CatalogueItem> items)
    {
        var building = !GraphReady();
        foreach (var item in items)
        {
            _graph.Upsert(ToEntry(item));
            if (building)
            {
                _changesDuringBuild.Add((item, null));
            }
        }

        return Task.CompletedTask;
    }

    public Task ItemRemovedAsync(string itemId)
    {
        if (!GraphReady())
        {
            _changesDuringBuild.Add((null, itemId));
        }

        _graph.Remove(itemId);
        return Task.CompletedTask;
    }

    public Task<bool> ForgetUserAsync(string userId)
    {
        _log.ForgetUser(userId);
        _lastQuery.Remove(userId);
        return Task.FromResult(!_log.Holds(userId));
    }

    public Task<BlocklistView> GetBlocklistAsync() =>
        Task.FromResult(new BlocklistView(_tenantBlocklist.Phrases, _tenantBlocklist.Patterns));

    public async Task<BlocklistView> SetBlocklistAsync(BlocklistView blocklist)
    {
        var list = new SuggestionBlocklist(blocklist.Phrases, blocklist.Patterns);
        await blocklists.SaveAsync(Tenant, list);
        ApplyBlocklist(list);
        return await GetBlocklistAsync();
    }

    public Task<IReadOnlyList<string>> AllowedAsync(IReadOnlyList<string> texts)
    {
        var blocklist = _engine.Blocklist;
        return Task.FromResult<IReadOnlyList<string>>([.. texts.Where(t => !blocklist.Blocks(t))]);
    }

    private void ApplyBlocklist(SuggestionBlocklist tenantList)
    {
        _tenantBlocklist = tenantList;
        var o = options.Value;
        _blocklist = tenantList.Union(new SuggestionBlocklist(o.BlockedPhrases, o.BlockedPatterns));
        _engine.Blocklist = _blocklist;
    }

    private void Use(EntityGraph graph)
    {
        _graph = graph;
        _linker = new EntityLinker(graph, options.Value.SemanticLinking ? encoder : null) { BuildIndexInBackground = true };
        _linker.PrepareSemanticIndex();
        _engine = new SuggestionEngine(graph, _linker, _log, new SuggestionOptions { Strategy = options.Value.Strategy }) { Blocklist = _blocklist };
    }

    /// <summary>Runs on the thread pool and touches nothing of the grain's: the catalogue as stored, as a new graph.</summary>
    private async Task<EntityGraph> BuildGraphAsync()
    {
        var graph = new EntityGraph();
        await foreach (var item in store.LoadAllAsync(Tenant))
        {
            graph.Upsert(ToEntry(item));
        }

        return graph;
    }

    /// <summary>Switches to the catalogue's graph once its build is done (in a turn); false while it runs.</summary>
    private bool GraphReady()
    {
        if (_graphBuild is null)
        {
            return true;
        }

        if (!_graphBuild.IsCompleted)
        {
            return false;
        }

        if (!_graphBuild.IsCompletedSuccessfully)
        {
            // The store did not answer: build again (the empty graph keeps serving the query log meanwhile).
            _graphBuild = Task.Run(BuildGraphAsync, CancellationToken.None);
            return false;
        }

        var graph = _graphBuild.Result;
        foreach (var (upserted, removed) in _changesDuringBuild)
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

        _changesDuringBuild.Clear();
        _graphBuild = null;
        Use(graph);
        return true;
    }

    public Task ContinueCatchUpAsync()
    {
        _catchUpQueued = false;
        return CatchUpStepAsync();
    }

    /// <summary>
    /// Reads one batch of the log in this turn; while the log has more, one next step is queued behind the calls
    /// waiting, so a rebuild after activation never holds a request past its timeout.
    /// </summary>
    private async Task CatchUpStepAsync()
    {
        GraphReady();
        if (await ReadBatchAsync() && !_catchUpQueued)
        {
            _catchUpQueued = true;
            _ = this.AsReference<ISuggestionGrain>().ContinueCatchUpAsync();
        }
    }

    /// <summary>Folds the next batch of searches into the query log; true when the log has more.</summary>
    private async Task<bool> ReadBatchAsync()
    {
        var gap = sessionOptions.Value.InactivityTimeout;
        var records = await clickLog.ReadAsync(Tenant, _nextSequence, ReadBatch);
        foreach (var record in records)
        {
            var e = record.Event;
            _nextSequence = record.Sequence + 1;
            if (e.Type != EventType.Search || string.IsNullOrWhiteSpace(e.Query))
            {
                continue;
            }

            var previous = _lastQuery.TryGetValue(e.UserId, out var last) && e.Timestamp - last.At <= gap && e.Timestamp >= last.At ? last.Query : null;
            _log.Add(e.Query, e.Timestamp, previous, e.UserId);
            _lastQuery[e.UserId] = (e.Query, e.Timestamp);
        }

        // Only the last query of live sessions matters for transitions; forget the rest.
        if (_lastQuery.Count > 200_000)
        {
            var cutoff = DateTimeOffset.UtcNow - gap;
            foreach (var stale in _lastQuery.Where(kv => kv.Value.At < cutoff).Select(kv => kv.Key).ToList())
            {
                _lastQuery.Remove(stale);
            }
        }

        return records.Count == ReadBatch;
    }

    private static CatalogueEntry ToEntry(CatalogueItem item) => new(item.Id, item.Title, item.Brand, item.Categories, item.Attributes);
}
