namespace SessionRec.Silo.Sessions;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Abstractions.Sessions;
using SessionRec.EventContract;
using SessionRec.Silo.Recommendations;

/// <summary>
/// One user's live session and recent history. Applies each event id once (the API may forward a retried
/// event again after the click log reported it as a duplicate, to repair a half-finished earlier attempt).
/// State is written behind (at a <see cref="SessionOptions.PersistInterval"/> tick once
/// <see cref="SessionOptions.PersistAfterEvents"/> events are unwritten, and on deactivation): the click log already
/// holds every acknowledged event durably, and an activation replays the user's records logged after the stored
/// state. Measured on the embedded default: one state write per event batch was most of the cost of ingesting an
/// event, and a write every 2 s per active user still an eighth of the service's CPU.
/// </summary>
[CollectionAgeLimit(Minutes = 30)]
public sealed partial class UserSessionGrain(
    [PersistentState("session", StorageNames.Sessions)] IPersistentState<UserSessionState> state,
    IClickLog clickLog,
    Recommender recommender,
    IOptions<SessionOptions> options,
    IOptions<Knowledge.KnowledgeServiceOptions> knowledgeOptions,
    ILogger<UserSessionGrain> logger) : Grain, IUserSessionGrain
{
    private const int ReplayBatch = 1_000;

    private readonly SessionOptions _options = options.Value;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    // Events applied since the state was last written (SessionOptions.PersistAfterEvents); none: nothing to write.
    private int _unwritten;
    private IGrainTimer? _persistTimer;

    // Round state of the last multi-round request: in memory only (a deactivated grain starts the rounds over).
    private RoundState? _rounds;

    private IUserKnowledgeGrain? _knowledge;

    // Whether new records go to the knowledge store as they arrive (Knowledge:FoldOnArrival, or the user asked for
    // suggestions since this activation began).
    private bool _knowledgeFollows = knowledgeOptions.Value.FoldOnArrival;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _seen.UnionWith(state.State.RecentEventIds);
        var (tenant, userId) = TenantKey.Split(this.GetPrimaryKeyString());
        while (true)
        {
            var records = await clickLog.ReadUserAsync(tenant, userId, state.State.AppliedThrough, ReplayBatch, cancellationToken);
            var events = new List<UserEvent>(records.Count);
            var sequences = new List<long>(records.Count);
            foreach (var record in records)
            {
                events.Add(record.Event);
                sequences.Add(record.Sequence);
            }

            // What this replay read, the knowledge store needs too (records that reached the log around the
            // grains: an import, another silo's writes before a failover): handed over, it is not read twice.
            var after = state.State.AppliedThrough;
            Apply(events, sequences);
            HandOver(after, events, sequences);
            if (records.Count < ReplayBatch)
            {
                break;
            }
        }
    }

    // Whatever is unwritten is written now: the next activation then replays nothing, and records the log's
    // retention drops later are not missing from the stored sessions.
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await PersistAsync(force: true);
    }

    public async Task<RecordResult> RecordAsync(IReadOnlyList<UserEvent> events, IReadOnlyList<long> sequences)
    {
        var after = state.State.AppliedThrough;
        var (applied, alreadySeen) = Apply(events, sequences);
        HandOver(after, events, sequences);
        if (_options.PersistInterval == TimeSpan.Zero)
        {
            await PersistAsync(force: true);
        }

        return new RecordResult(applied, alreadySeen, state.State.Current?.SessionId);
    }

    // The view is immutable (handed over without a copy): it gets its own lists, since ours change in place (the live
    // session's events) and closing a session inserts into the list of recent ones.
    public Task<UserSessionView> GetAsync() =>
        Task.FromResult(new UserSessionView(UserId, state.State.Current is { } current ? current with { Events = [.. current.Events] } : null, [.. state.State.Recent]));

    public Task<SessionContext> GetContextAsync()
    {
        var current = state.State.Current;
        var items = new List<string>();
        var purchased = new List<string>();
        if (current is not null)
        {
            foreach (var evt in current.Events)
            {
                if (evt.ItemId is null)
                {
                    continue;
                }

                if (evt.Type == EventType.Purchase)
                {
                    purchased.Add(evt.ItemId);
                }
                else if (evt.Type.IsItemEvent())
                {
                    items.Remove(evt.ItemId);
                    items.Add(evt.ItemId);
                }
            }
        }

        return Task.FromResult(new SessionContext(current?.SessionId, items, purchased));
    }

    public async Task<SessionRecommendations> RecommendAsync(SessionRecommendationRequest request)
    {
        var context = await GetContextAsync();
        var exclude = request.Exclude.Count == 0 ? context.PurchasedItems : [.. request.Exclude, .. context.PurchasedItems];
        var previous = request.More && request.Rounds != 0 ? _rounds : null;
        // This silo's recommender, in this turn: no grain message per request.
        var list = await recommender.RecommendAsync(
            TenantKey.Split(this.GetPrimaryKeyString()).Tenant,
            new RecommendationRequest(request.K, context.RecentItems, exclude, request.ContextItem, request.Rounds, previous));
        if (list.Rounds is not null)
        {
            // The next "more" request continues from here.
            _rounds = list.Rounds;
        }

        return new SessionRecommendations(list, context.SessionId);
    }

    public async Task<SessionSuggestions> SuggestAsync(SuggestionRequest request)
    {
        var current = state.State.Current;
        List<string> queries = current is null ? [] : [.. current.Events.Where(e => e.Type == EventType.Search && e.Query is not null).Select(e => e.Query!)];
        var list = await Knowledge.SuggestAsync(request with { SessionQueries = queries, Knowledge = null }, state.State.AppliedThrough);
        _knowledgeFollows = true;
        return new SessionSuggestions(list, current?.SessionId, queries);
    }

    public async Task EraseAsync()
    {
        _rounds = null;
        _seen.Clear();
        _unwritten = 0;
        StopPersisting();
        await state.ClearStateAsync();
        state.State = new UserSessionState();
        DeactivateOnIdle();
    }

    private string UserId => TenantKey.Split(this.GetPrimaryKeyString()).UserId;

    /// <summary>The same user's knowledge store (a grain reference costs reflection to make: made once).</summary>
    private IUserKnowledgeGrain Knowledge => _knowledge ??= GrainFactory.GetGrain<IUserKnowledgeGrain>(this.GetPrimaryKeyString());

    /// <summary>
    /// Once it follows, the user's knowledge store folds new records as they arrive (one-way: ingestion does not wait
    /// for it), so the user's next suggestion request does not fold a history first. Impressions go along with what
    /// the user did, so the store reaches the same position in the log as this grain and a suggestion request finds
    /// nothing to read; alone they wake no store (there is nothing in them to fold).
    /// </summary>
    private void HandOver(long after, IReadOnlyList<UserEvent> events, IReadOnlyList<long> sequences)
    {
        if (!_knowledgeFollows)
        {
            return;
        }

        var fresh = new List<(long Sequence, UserEvent Event)>();
        var actions = false;
        for (var i = 0; i < events.Count && i < sequences.Count; i++)
        {
            if (sequences[i] > after)
            {
                fresh.Add((sequences[i], events[i]));
                actions |= events[i].Type != EventType.Impression;
            }
        }

        if (actions)
        {
            fresh.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
            _ = Knowledge.FoldAsync(after, [.. fresh.Select(f => f.Event)], [.. fresh.Select(f => f.Sequence)]);
        }
    }

    private (int Applied, int AlreadySeen) Apply(IReadOnlyList<UserEvent> events, IReadOnlyList<long> sequences)
    {
        var order = new int[events.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => events[a].Timestamp.CompareTo(events[b].Timestamp));
        var position = state.State.AppliedThrough;
        var applied = 0;
        var alreadySeen = 0;
        foreach (var i in order)
        {
            var evt = events[i];
            if (i < sequences.Count && sequences[i] > state.State.AppliedThrough)
            {
                state.State.AppliedThrough = sequences[i];
            }

            // An impression records what was shown, not what the user did: it is no session event. The live path
            // never forwards the lists the service logs itself, and replay must build the same state from the log.
            if (evt.Type == EventType.Impression)
            {
                continue;
            }

            if (!_seen.Add(evt.EventId))
            {
                alreadySeen++;
                continue;
            }

            Remember(evt.EventId);
            Apply(evt);
            applied++;
            MarkDirty();
        }

        // Records that changed nothing (impressions, events already seen) still move the position: written with the
        // state, the next activation does not read them again. Unwritten, every activation re-read every impression
        // served since the user's last action (measured: 15.5 records per activation, 83% impressions, on the bench's
        // 22,363 users; an activation then took ~10 ms).
        if (applied == 0 && state.State.AppliedThrough > position)
        {
            MarkDirty();
        }

        return (applied, alreadySeen);
    }

    private async Task PersistAsync(bool force)
    {
        if (_unwritten == 0 || (!force && _unwritten < _options.PersistAfterEvents))
        {
            return;
        }

        var writing = _unwritten;
        try
        {
            _unwritten = 0;
            await state.WriteStateAsync();
            if (_unwritten < _options.PersistAfterEvents)
            {
                StopPersisting();
            }
        }
        catch (Exception e)
        {
            // Try again at the next tick; until then the click log still holds everything.
            _unwritten += writing;
            LogPersistFailed(logger, e, this.GetPrimaryKeyString());
        }
    }

    /// <summary>
    /// The state changed: once enough is unwritten it is written within <see cref="SessionOptions.PersistInterval"/>.
    /// The timer runs only then (tens of thousands of idle active users would otherwise each take a turn every
    /// interval for nothing: measured, a quarter of a core with 22,363 users active).
    /// </summary>
    private void MarkDirty()
    {
        _unwritten++;
        if (_persistTimer is null && _options.PersistInterval > TimeSpan.Zero && _unwritten >= _options.PersistAfterEvents)
        {
            _persistTimer = this.RegisterGrainTimer(
                static (grain, _) => grain.PersistAsync(force: false),
                this,
                new GrainTimerCreationOptions(_options.PersistInterval, _options.PersistInterval) { KeepAlive = false });
        }
    }

    private void StopPersisting()
    {
        _persistTimer?.Dispose();
        _persistTimer = null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing the session state of {Key} failed; will retry")]
    private static partial void LogPersistFailed(ILogger logger, Exception exception, string key);

    private void Remember(string eventId)
    {
        var ids = state.State.RecentEventIds;
        ids.Add(eventId);
        if (ids.Count > _options.DedupWindow)
        {
            var drop = ids.Count - _options.DedupWindow;
            for (var i = 0; i < drop; i++)
            {
                _seen.Remove(ids[i]);
            }

            ids.RemoveRange(0, drop);
        }
    }

    private void Apply(UserEvent evt)
    {
        var current = state.State.Current;
        var entry = new SessionEvent(evt.EventId, evt.Type, evt.ItemId, evt.Query, evt.Timestamp);

        if (current is null || SessionRule.StartsNew(evt.Timestamp, evt.SessionId, current.LastEventAt, current.SessionId, _options.InactivityTimeout))
        {
            if (current is not null)
            {
                Close(current);
            }

            state.State.Current = new SessionSummary(
                SessionRule.IdOf(evt.SessionId, evt.EventId),
                evt.Timestamp,
                evt.Timestamp,
                new List<SessionEvent> { entry });
            return;
        }

        // The live session's list is this grain's alone (views get copies), so it changes in place: copying it for
        // every event (up to MaxEventsPerSession per active user) was what most survived young collections during
        // ingestion. Only a list storage read back as another collection type is copied, once.
        var events = current.Events as List<SessionEvent> ?? [.. current.Events];

        // Late arrivals are placed in timestamp order; the common case appends.
        var at = events.Count;
        while (at > 0 && events[at - 1].Timestamp > evt.Timestamp)
        {
            at--;
        }

        events.Insert(at, entry);
        if (events.Count > _options.MaxEventsPerSession)
        {
            events.RemoveRange(0, events.Count - _options.MaxEventsPerSession);
        }

        var last = evt.Timestamp > current.LastEventAt ? evt.Timestamp : current.LastEventAt;
        state.State.Current = current with { LastEventAt = last, Events = events };
    }

    private void Close(SessionSummary session)
    {
        var recent = state.State.Recent;
        recent.Insert(0, session);
        if (recent.Count > _options.MaxRecentSessions)
        {
            recent.RemoveRange(_options.MaxRecentSessions, recent.Count - _options.MaxRecentSessions);
        }
    }
}
