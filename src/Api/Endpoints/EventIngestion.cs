namespace SessionRec.Api.Endpoints;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Abstractions.Sessions;
using SessionRec.Abstractions.Statistics;
using SessionRec.Api.Contracts;
using SessionRec.Api.Hosting;
using SessionRec.EventContract;
using SessionRec.ServiceDefaults;

/// <summary>
/// Validate → append to the click log (the acknowledgement point) → apply to the users' session grains.
/// A failure after the append makes the request fail (503) although the events are logged: the client
/// retries, the log reports duplicates, and duplicates are forwarded to the session grains again, which apply
/// each event id once. So nothing acknowledged is lost and nothing is applied twice.
/// </summary>
public sealed class EventIngestion(IClickLog clickLog, GrainReferences<IUserSessionGrain> sessions, LogAdvanceNotices notices, IOptions<ApiOptions> options, IOptions<Silo.ClickLog.ClickLogOptions> clickLogOptions, TimeProvider time)
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";

    public async Task<PostEventsResponse> IngestAsync(string tenant, IReadOnlyList<EventFields?> bodies, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var results = new EventResult[bodies.Count];
        var valid = new List<UserEvent>(bodies.Count);
        var validIndex = new List<int>(bodies.Count);
        for (var i = 0; i < bodies.Count; i++)
        {
            var (evt, reason) = Validate(bodies[i], now);
            if (evt is null)
            {
                results[i] = new EventResult(bodies[i]?.EventId, Rejected, reason);
                continue;
            }

            valid.Add(evt);
            validIndex.Add(i);
        }

        var outcomes = await clickLog.AppendAsync(tenant, valid, cancellationToken);
        int accepted = 0, duplicates = 0;
        for (var v = 0; v < valid.Count; v++)
        {
            var appended = outcomes[v].Outcome == AppendOutcome.Appended;
            results[validIndex[v]] = new EventResult(valid[v].EventId, appended ? Accepted : Duplicate, null);
            if (appended)
            {
                accepted++;
            }
            else
            {
                duplicates++;
            }
        }

        await ApplyToSessionsAsync(tenant, valid, outcomes);
        if (accepted > 0)
        {
            var last = 0L;
            foreach (var outcome in outcomes)
            {
                last = Math.Max(last, outcome.Sequence);
            }

            notices.Advanced(tenant, last, valid.Any(e => e.Type == EventType.Search));
        }

        var rejected = bodies.Count - valid.Count;
        Telemetry.EventsAccepted.Add(accepted);
        Telemetry.EventsDuplicate.Add(duplicates);
        Telemetry.EventsRejected.Add(rejected);
        return new PostEventsResponse(accepted, duplicates, rejected, results);
    }

    private Task ApplyToSessionsAsync(string tenant, List<UserEvent> events, IReadOnlyList<AppendResult> logged)
    {
        var byUser = new Dictionary<string, (List<UserEvent> Events, List<long> Sequences)>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            if (!byUser.TryGetValue(evt.UserId, out var list))
            {
                byUser[evt.UserId] = list = ([], []);
            }

            list.Events.Add(evt);
            list.Sequences.Add(logged[i].Sequence);
        }

        var calls = new List<Task>(byUser.Count);
        foreach (var (userId, list) in byUser)
        {
            calls.Add(sessions.Get(TenantKey.For(tenant, userId)).RecordAsync(list.Events, list.Sequences));
        }

        return Task.WhenAll(calls);
    }

    private (UserEvent? Event, string? Reason) Validate(EventFields? body, DateTimeOffset now)
    {
        if (body is null)
        {
            return (null, "The event is null.");
        }

        var window = EventWindow.For(options.Value.MaxEventAge, options.Value.MaxFutureSkew, clickLogOptions.Value.DedupWindow);
        if (EventRules.Problem(body, now, window) is { } problem)
        {
            return (null, problem);
        }

        EventTypes.TryParse(body.Type, out var type);
        return (new UserEvent(
            body.EventId!,
            body.UserId!,
            body.SessionId,
            type,
            body.ItemId,
            body.Query,
            body.RequestId,
            body.Position,
            EventRules.Timestamp(body, now),
            now), null);
    }
}
