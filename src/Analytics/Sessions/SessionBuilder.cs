namespace SessionRec.Analytics.Sessions;

using SessionRec.EventContract;

/// <summary>
/// Rebuilds sessions from click-log records. Per user, in time order, sessions are split by <see cref="SessionRule"/>
/// (as the service splits them; the inactivity timeout the service is configured with). Each impression becomes a served list; clicks, carts, purchases and suggestion clicks
/// are attributed to the list their <c>request_id</c> names (any earlier session of the user included), and
/// those without one to the latest list of the session that showed the item (last touch). A search event is a
/// served list of surface <c>search</c> with nothing shown.
/// </summary>
public static class SessionBuilder
{
    /// <param name="inactivity">The inactivity timeout; by default <see cref="SessionRule.DefaultInactivity"/>.</param>
    public static IReadOnlyList<LoggedSession> Build(IEnumerable<LogEvent> records, TimeSpan? inactivity = null)
    {
        var timeout = inactivity ?? SessionRule.DefaultInactivity;
        var sessions = new List<LoggedSession>();
        foreach (var user in records.GroupBy(r => r.UserId, StringComparer.Ordinal))
        {
            LoggedSession? current = null;
            string? currentId = null;
            var lists = new Dictionary<string, ServedList>(StringComparer.Ordinal);
            foreach (var record in user.OrderBy(r => r.Timestamp).ThenBy(r => r.Sequence))
            {
                if (current is null || SessionRule.StartsNew(record.Timestamp, record.SessionId, current.End, currentId, timeout))
                {
                    current = new LoggedSession(user.Key, record.Sequence);
                    currentId = record.SessionId ?? (record.EventId is { } eventId ? SessionRule.IdFor(eventId) : null);
                    sessions.Add(current);
                }

                current.Records.Add(record);
                Apply(current, record, lists);
            }
        }

        return sessions.OrderBy(s => s.Start).ThenBy(s => s.UserId, StringComparer.Ordinal).ToList();
    }

    private static void Apply(LoggedSession session, LogEvent record, Dictionary<string, ServedList> lists)
    {
        switch (record.Type)
        {
            case "impression":
                var list = new ServedList(
                    record.RequestId ?? $"seq-{record.Sequence}", record.Surface ?? "recommendations", record.ModelVersion,
                    record.Timestamp, record.Query ?? record.ItemId, record.Shown ?? []);
                session.Lists.Add(list);
                lists[list.RequestId] = list;
                break;
            case "search":
                session.Lists.Add(new ServedList($"search-{record.Sequence}", "search", null, record.Timestamp, record.Query, []));
                break;
            case "click" or "add_to_cart" or "purchase" or "suggestion_click":
                var target = record.Type == "suggestion_click" ? record.Query : record.ItemId;
                if (target is null)
                {
                    break;
                }

                var attributed = record.RequestId is not null && lists.TryGetValue(record.RequestId, out var named)
                    ? named
                    : session.Lists.LastOrDefault(l => l.Shown.Contains(target, StringComparer.Ordinal));
                if (attributed is not null)
                {
                    // The item named wins over a position that disagrees with it (a client's off-by-one).
                    var index = IndexOf(attributed.Shown, target);
                    var position = index >= 0 ? index + 1
                        : record.Position is > 0 && record.Position <= attributed.Shown.Count ? record.Position.Value : 0;
                    attributed.Feedback.Add(new Feedback(record.Type, target, position, record.Timestamp));
                }

                break;
        }
    }

    private static int IndexOf(IReadOnlyList<string> shown, string target)
    {
        for (var i = 0; i < shown.Count; i++)
        {
            if (string.Equals(shown[i], target, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
