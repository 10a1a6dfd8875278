namespace SessionRec.Analytics.Sessions;

using SessionRec.EventContract;

/// <summary>
/// One user's sessions assembled record by record, in the order they are given (<see cref="SessionBuilder"/> gives
/// them in time order; the live analytics in log order): split by <see cref="SessionRule"/>, impressions made served
/// lists, feedback attributed to the list its <c>request_id</c> names (any session still held included), else to the
/// latest list of its session that showed the item (last touch). A session <see cref="Release"/>d is forgotten: later
/// feedback naming its lists is not attributed.
/// </summary>
public sealed class UserSessionAssembler(string userId, TimeSpan inactivity)
{
    // Request ids feedback named before their impression was read; at most this many are kept waiting per user.
    private const int MaxEarly = 64;

    private readonly Dictionary<string, ServedList> _lists = new(StringComparer.Ordinal);
    private Dictionary<string, List<LogEvent>>? _early;
    private string? _currentId;

    public string UserId { get; } = userId;

    /// <summary>The sessions held, oldest first; the last one is the current session.</summary>
    public List<LoggedSession> Sessions { get; } = [];

    public LoggedSession? Current { get; private set; }

    /// <summary>Adds the record to the current session, or to a new one it starts; returns that session.</summary>
    public LoggedSession Add(LogEvent record)
    {
        if (Current is null || SessionRule.StartsNew(record.Timestamp, record.SessionId, Current.End, _currentId, inactivity))
        {
            Current = new LoggedSession(UserId, record.Sequence);
            _currentId = record.SessionId ?? (record.EventId is { } eventId ? SessionRule.IdFor(eventId) : null);
            Sessions.Add(Current);
        }

        Current.Records.Add(record);
        Apply(Current, record);
        return Current;
    }

    /// <summary>Forgets a session (its lists no longer take feedback); the next record starts a new one if it was current.</summary>
    public void Release(LoggedSession session)
    {
        Sessions.Remove(session);
        foreach (var list in session.Lists)
        {
            if (_lists.TryGetValue(list.RequestId, out var held) && ReferenceEquals(held, list))
            {
                _lists.Remove(list.RequestId);
            }
        }

        if (ReferenceEquals(session, Current))
        {
            Current = null;
            _currentId = null;
        }
    }

    private void Apply(LoggedSession session, LogEvent record)
    {
        switch (record.Type)
        {
            case "impression":
                var list = new ServedList(
                    record.RequestId ?? $"seq-{record.Sequence}", record.Surface ?? "recommendations", record.ModelVersion,
                    record.Timestamp, record.Query ?? record.ItemId, record.Shown ?? []);
                session.Lists.Add(list);
                _lists[list.RequestId] = list;
                if (_early?.Remove(list.RequestId, out var early) == true)
                {
                    foreach (var feedback in early)
                    {
                        Attribute(list, feedback);
                    }
                }

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

                var attributed = record.RequestId is not null && _lists.TryGetValue(record.RequestId, out var named)
                    ? named
                    : session.Lists.LastOrDefault(l => l.Shown.Contains(target, StringComparer.Ordinal));
                if (attributed is not null)
                {
                    Attribute(attributed, record);
                }
                else if (record.RequestId is not null)
                {
                    // The service writes a served list's impression behind its answer, so a quick click can reach the
                    // log first: it waits (a few per user) for the impression it names.
                    _early ??= new(StringComparer.Ordinal);
                    if (_early.Count < MaxEarly)
                    {
                        (_early.TryGetValue(record.RequestId, out var waiting) ? waiting : _early[record.RequestId] = []).Add(record);
                    }
                }

                break;
        }
    }

    private static void Attribute(ServedList list, LogEvent record)
    {
        var target = record.Type == "suggestion_click" ? record.Query! : record.ItemId!;

        // The item named wins over a position that disagrees with it (a client's off-by-one).
        var index = IndexOf(list.Shown, target);
        var position = index >= 0 ? index + 1
            : record.Position is > 0 && record.Position <= list.Shown.Count ? record.Position.Value : 0;
        list.Feedback.Add(new Feedback(record.Type, target, position, record.Timestamp));
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
