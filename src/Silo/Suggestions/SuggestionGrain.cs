namespace SessionRec.Silo.Suggestions;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.EventContract;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Knowledge;
using SessionRec.Silo.Replicas;
using SessionRec.Silo.Snapshots;

/// <summary>
/// A tenant's query log (<see cref="ISuggestionGrain"/>): follows the click log's searches
/// (<see cref="SnapshotBuilderGrain"/>), keeps them by user and publishes what enough distinct users searched as a
/// <see cref="QueryLogSnapshot"/>, with the whole log as its checkpoint, so an activation resumes instead of
/// replaying the log. Memory: at most <see cref="KnowledgeServiceOptions.MaxQueries"/> distinct queries (the least
/// recently searched go first), each with its searchers; plus the last query of up to 200,000 live sessions.
/// </summary>
public sealed class SuggestionGrain(
    IClickLog clickLog,
    SnapshotStore store,
    SuggestionBlocklistStore blocklists,
    ReplicaFanOut replicas,
    IOptions<KnowledgeServiceOptions> options,
    IOptions<RecommenderOptions> recommenderOptions,
    IOptions<Sessions.SessionOptions> sessionOptions,
    TimeProvider time) : SnapshotBuilderGrain(clickLog, time), ISuggestionGrain
{
    private const int MaxLiveSessions = 200_000;

    // Per user, the live session as SessionRule splits it (its id and last event of any type) and its last query, if any.
    private readonly Dictionary<string, LiveQuerySession> _lastQuery = new(StringComparer.Ordinal);
    private QueryLog _log = new();
    private SuggestionBlocklist? _tenantBlocklist;

    // The tenant's list with the configured one: compiled once per change, not per filtered LLM answer.
    private SuggestionBlocklist? _blocklist;

    protected override TimeSpan SnapshotInterval => recommenderOptions.Value.SnapshotInterval;

    protected override TimeSpan TailInterval => recommenderOptions.Value.TailInterval;

    protected override long RebuildMaxEvents => recommenderOptions.Value.RebuildMaxEvents;

    protected override async Task<LogPosition?> ResumeAsync()
    {
        var checkpoint = await store.ReadCheckpointAsync(QueryLogReplicas.Keys(Tenant), QueryLog.ReadFrom);
        _log = checkpoint?.Value ?? new QueryLog();
        _log.MinUsers = options.Value.MinDistinctUsersFor(Tenant);
        return checkpoint?.Position;
    }

    protected override bool Observe(ClickLogRecord record)
    {
        var e = record.Event;
        var gap = sessionOptions.Value.InactivityTimeout;
        var known = _lastQuery.TryGetValue(e.UserId, out var live);
        var current = known && !SessionRule.StartsNew(e.Timestamp, e.SessionId, live!.LastAt, live.SessionId, gap)
            ? live with { LastAt = e.Timestamp > live.LastAt ? e.Timestamp : live.LastAt }
            : new LiveQuerySession(SessionRule.IdOf(e.SessionId, e.EventId), e.Timestamp, null, DateTimeOffset.MinValue);
        if (e.Type == EventType.Search && !string.IsNullOrWhiteSpace(e.Query))
        {
            // A late search (before the session's last query) is counted, but follows nothing.
            _log.Add(e.Query, e.Timestamp, e.Timestamp >= current.QueryAt ? current.Query : null, e.UserId);
            if (e.Timestamp >= current.QueryAt)
            {
                current = current with { Query = e.Query, QueryAt = e.Timestamp };
            }
        }
        else if (!known)
        {
            // Only sessions that searched matter for transitions: a user is tracked from their first search on.
            return false;
        }

        _lastQuery[e.UserId] = current;
        if (_lastQuery.Count > MaxLiveSessions)
        {
            // Only the last query of live sessions matters for transitions; forget the rest.
            var cutoff = e.Timestamp - gap;
            foreach (var stale in _lastQuery.Where(kv => kv.Value.LastAt < cutoff).Select(kv => kv.Key).ToList())
            {
                _lastQuery.Remove(stale);
            }
        }

        return true;
    }

    protected override Task WriteAsync(LogPosition position)
    {
        _log.Trim(options.Value.MaxQueries);

        // Serialising a large log takes a while: off the scheduler (the turn stays open, so nothing writes it meanwhile).
        return Task.Run(() => store.PublishAsync(QueryLogReplicas.Keys(Tenant), position, QueryLogSnapshot.From(_log).WriteTo, _log.WriteTo));
    }

    protected override Task CaughtUpAsync() => replicas.QueryLogPublishedAsync(Tenant);

    protected override void QueueContinue() => _ = this.AsReference<ISuggestionGrain>().ContinueCatchUpAsync();

    public async Task<bool> ForgetUserAsync(string userId)
    {
        _log.ForgetUser(userId);
        _lastQuery.Remove(userId);

        // Published now, and loaded by every silo before the erasure answers: a query the user made one of the
        // minimum users of leaves everyone's suggestions at once.
        await PublishAsync();
        await replicas.QueryLogPublishedAsync(Tenant);
        var stored = await store.ReadCheckpointAsync(QueryLogReplicas.Keys(Tenant), QueryLog.ReadFrom);
        return !_log.Holds(userId) && stored?.Value.Holds(userId) != true;
    }

    public async Task<BlocklistView> GetBlocklistAsync()
    {
        var list = await TenantBlocklistAsync();
        return new BlocklistView(list.Phrases, list.Patterns);
    }

    public async Task<BlocklistView> SetBlocklistAsync(BlocklistView blocklist)
    {
        var list = new SuggestionBlocklist(blocklist.Phrases, blocklist.Patterns);
        await blocklists.SaveAsync(Tenant, list);
        Use(list);
        await replicas.BlocklistChangedAsync(Tenant);
        return await GetBlocklistAsync();
    }

    public async Task<IReadOnlyList<string>> AllowedAsync(IReadOnlyList<string> texts)
    {
        await TenantBlocklistAsync();
        return [.. texts.Where(t => !_blocklist!.Blocks(t))];
    }

    private async Task<SuggestionBlocklist> TenantBlocklistAsync()
    {
        if (_tenantBlocklist is null)
        {
            Use(await blocklists.LoadAsync(Tenant));
        }

        return _tenantBlocklist!;
    }

    private void Use(SuggestionBlocklist tenantList)
    {
        var o = options.Value;
        _tenantBlocklist = tenantList;
        _blocklist = tenantList.Union(new SuggestionBlocklist(o.BlockedPhrases, o.BlockedPatterns));
    }
}

/// <summary>A user's live session as the query-log builder follows it: its id, its last event, its last query.</summary>
internal sealed record LiveQuerySession(string? SessionId, DateTimeOffset LastAt, string? Query, DateTimeOffset QueryAt);
