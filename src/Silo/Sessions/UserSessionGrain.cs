namespace SessionRec.Silo.Sessions;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Sessions;

/// <summary>
/// One user's live session and recent history. Applies each event id once (the API may forward a retried
/// event again after the click log reported it as a duplicate, to repair a half-finished earlier attempt).
/// </summary>
[CollectionAgeLimit(Minutes = 30)]
public sealed class UserSessionGrain(
    [PersistentState("session", StorageNames.Sessions)] IPersistentState<UserSessionState> state,
    IOptions<SessionOptions> options) : Grain, IUserSessionGrain
{
    private readonly SessionOptions _options = options.Value;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _seen.UnionWith(state.State.RecentEventIds);
        return Task.CompletedTask;
    }

    public async Task<RecordResult> RecordAsync(IReadOnlyList<UserEvent> events)
    {
        var ordered = new List<UserEvent>(events);
        ordered.Sort(static (a, b) => a.Timestamp.CompareTo(b.Timestamp));
        var applied = 0;
        var alreadySeen = 0;
        foreach (var evt in ordered)
        {
            if (!_seen.Add(evt.EventId))
            {
                alreadySeen++;
                continue;
            }

            Remember(evt.EventId);
            Apply(evt);
            applied++;
        }

        if (applied > 0)
        {
            await state.WriteStateAsync();
        }

        return new RecordResult(applied, alreadySeen, state.State.Current?.SessionId);
    }

    public Task<UserSessionView> GetAsync() =>
        Task.FromResult(new UserSessionView(UserId, state.State.Current, state.State.Recent));

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

        var isNew = current is null && state.State.Recent.Count == 0;
        return Task.FromResult(new SessionContext(current?.SessionId, items, purchased, isNew));
    }

    public async Task EraseAsync()
    {
        _seen.Clear();
        await state.ClearStateAsync();
        state.State = new UserSessionState();
        DeactivateOnIdle();
    }

    private string UserId => TenantKey.Split(this.GetPrimaryKeyString()).UserId;

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
        var expired = current is not null && evt.Timestamp - current.LastEventAt > _options.InactivityTimeout;
        var otherSession = current is not null && evt.SessionId is not null && evt.SessionId != current.SessionId;
        if (current is null || expired || otherSession)
        {
            if (current is not null)
            {
                Close(current);
            }

            state.State.Current = new SessionSummary(
                evt.SessionId ?? $"s-{Guid.NewGuid():N}",
                evt.Timestamp,
                evt.Timestamp,
                [entry]);
            return;
        }

        var events = new List<SessionEvent>(current.Events.Count + 1);
        events.AddRange(current.Events);

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
