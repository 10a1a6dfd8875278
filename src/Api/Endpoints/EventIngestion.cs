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
using SessionRec.ServiceDefaults;

/// <summary>
/// Validate → append to the click log (the acknowledgement point) → apply to the users' session grains.
/// A failure after the append makes the request fail (503) although the events are logged: the client
/// retries, the log reports duplicates, and duplicates are forwarded to the session grains again, which apply
/// each event id once. So nothing acknowledged is lost and nothing is applied twice.
/// </summary>
public sealed class EventIngestion(IClickLog clickLog, IGrainFactory grains, IOptions<ApiOptions> options, TimeProvider time)
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";

    public async Task<PostEventsResponse> IngestAsync(string tenant, IReadOnlyList<EventBody?> bodies, CancellationToken cancellationToken)
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

            // One-way: the builders read the new records now; the request does not wait for them.
            _ = grains.GetGrain<IStatisticsBuilderGrain>(tenant).LogAdvancedAsync(last);
            if (valid.Any(e => e.Type == EventType.Search))
            {
                _ = grains.GetGrain<ISuggestionGrain>(tenant).LogAdvancedAsync(last);
            }
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
            calls.Add(grains.GetGrain<IUserSessionGrain>(TenantKey.For(tenant, userId)).RecordAsync(list.Events, list.Sequences));
        }

        return Task.WhenAll(calls);
    }

    private (UserEvent? Event, string? Reason) Validate(EventBody? body, DateTimeOffset now)
    {
        if (body is null)
        {
            return (null, "The event is null.");
        }

        var problem = Validation.IdProblem("event_id", body.EventId)
            ?? Validation.PathIdProblem("user_id", body.UserId)
            ?? (body.SessionId is null ? null : Validation.IdProblem("session_id", body.SessionId))
            ?? (body.RequestId is null ? null : Validation.IdProblem("request_id", body.RequestId))
            ?? Validation.TextProblem("query", body.Query);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (!EventTypes.TryParse(body.Type, out var type))
        {
            return (null, body.Type is null
                ? $"type is required: one of {EventTypes.AllWire}."
                : $"Unknown event type '{Truncate(body.Type)}': use one of {EventTypes.AllWire}.");
        }

        if (type.IsItemEvent() || type == EventType.Impression)
        {
            if (Validation.PathIdProblem("item_id", body.ItemId) is { } itemProblem)
            {
                return (null, $"A {type.ToWire()} event needs an item: {itemProblem}");
            }
        }
        else if (body.ItemId is not null && Validation.PathIdProblem("item_id", body.ItemId) is { } itemProblem)
        {
            return (null, itemProblem);
        }

        if (type == EventType.Search && string.IsNullOrWhiteSpace(body.Query))
        {
            return (null, "A search event needs a non-empty query.");
        }

        if (type == EventType.SuggestionClick && string.IsNullOrWhiteSpace(body.Query))
        {
            return (null, "A suggestion_click event needs the clicked suggestion as query.");
        }

        if (body.Position is < 0 or > 10_000)
        {
            return (null, "position must be between 0 and 10000.");
        }

        var timestamp = body.Timestamp ?? now;
        var o = options.Value;
        if (timestamp > now + o.MaxFutureSkew)
        {
            return (null, $"timestamp is more than {o.MaxFutureSkew} in the future.");
        }

        if (timestamp < now - o.MaxEventAge)
        {
            return (null, $"timestamp is older than {o.MaxEventAge.TotalDays:0.#} days.");
        }

        return (new UserEvent(
            body.EventId!,
            body.UserId!,
            body.SessionId,
            type,
            body.ItemId,
            body.Query,
            body.RequestId,
            body.Position,
            timestamp.ToUniversalTime(),
            now), null);
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
