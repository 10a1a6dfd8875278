namespace SessionRec.Cli.Import;

using SessionRec.Models.Data;

/// <summary>
/// Lays a data set's interactions onto the recent past, so the service (which refuses events older than its
/// MaxEventAge and its dedup window) takes them as live traffic while every user's sessions and their order are kept:
/// - sessions come from the data set's own session ids, else from inactivity on its timestamps (SessionRule's default, 30 minutes),
///   else (no times, e.g. Amazon Beauty) a user's whole sequence is one session;
/// - sessions are spread over the window in the order they started (by user order where there are no times);
/// - inside a session, events keep their original gaps (capped at 25 minutes), or are one minute apart.
/// Event ids are derived from the data set, user and position, so re-running an import is idempotent.
/// </summary>
public static class Timeline
{
    public sealed record TimedEvent(string EventId, string UserId, string SessionId, string ItemId, string Type, DateTimeOffset Timestamp);

    public static List<TimedEvent> Assign(Dataset dataset, DateTimeOffset end, TimeSpan window)
    {
        var sessions = new List<(string User, string Session, double Start, List<(ImportInteraction I, int Index)> Events)>();
        var byUser = new Dictionary<string, List<(ImportInteraction, int)>>(StringComparer.Ordinal);
        var userOrder = new List<string>();
        for (var i = 0; i < dataset.Interactions.Count; i++)
        {
            var x = dataset.Interactions[i];
            if (!byUser.TryGetValue(x.UserId, out var list))
            {
                byUser[x.UserId] = list = [];
                userOrder.Add(x.UserId);
            }

            list.Add((x, list.Count));
        }

        for (var u = 0; u < userOrder.Count; u++)
        {
            var user = userOrder[u];
            var events = byUser[user];
            if (events.TrueForAll(e => e.Item1.UnixTime is not null))
            {
                events.Sort((a, b) => a.Item1.UnixTime!.Value.CompareTo(b.Item1.UnixTime!.Value));
            }

            List<(ImportInteraction, int)>? current = null;
            string? currentKey = null;
            double last = double.NegativeInfinity;
            foreach (var e in events)
            {
                var (x, _) = e;
                var split = current is null
                    || (x.SessionKey is not null ? x.SessionKey != currentKey : x.UnixTime is { } t && t - last > EventContract.SessionRule.DefaultInactivity.TotalSeconds);
                if (split)
                {
                    current = [];
                    currentKey = x.SessionKey;
                    sessions.Add((user, $"{dataset.Name}-{user}-{sessions.Count}", x.UnixTime ?? u, current));
                }

                current!.Add(e);
                last = x.UnixTime ?? last;
            }
        }

        sessions.Sort((a, b) => a.Start.CompareTo(b.Start));
        var result = new List<TimedEvent>(dataset.Interactions.Count);
        var start = end - window;
        var step = sessions.Count > 1 ? (window - TimeSpan.FromHours(1)) / (sessions.Count - 1) : TimeSpan.Zero;
        for (var s = 0; s < sessions.Count; s++)
        {
            var (user, sessionId, _, events) = sessions[s];
            var sessionStart = start + step * s;
            var first = events[0].I.UnixTime;
            for (var k = 0; k < events.Count; k++)
            {
                var (x, index) = events[k];
                var offset = x.UnixTime is { } t && first is { } f
                    ? TimeSpan.FromSeconds(Math.Min(t - f, 25 * 60))
                    : TimeSpan.FromMinutes(k);
                result.Add(new TimedEvent($"{dataset.Name}:{user}:{index}", user, sessionId, x.ItemId, x.Type, sessionStart + offset));
            }
        }

        return result;
    }
}
