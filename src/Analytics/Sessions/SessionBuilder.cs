namespace SessionRec.Analytics.Sessions;

using SessionRec.EventContract;

/// <summary>
/// Rebuilds sessions from click-log records. Per user, in time order, sessions are split by <see cref="SessionRule"/>
/// (as the service splits them; the inactivity timeout the service is configured with), by one
/// <see cref="UserSessionAssembler"/> per user that keeps every session: clicks, carts, purchases and suggestion
/// clicks are attributed to the list their <c>request_id</c> names (any earlier session of the user included), and
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
            var assembler = new UserSessionAssembler(user.Key, timeout);
            foreach (var record in user.OrderBy(r => r.Timestamp).ThenBy(r => r.Sequence))
            {
                assembler.Add(record);
            }

            sessions.AddRange(assembler.Sessions);
        }

        return sessions.OrderBy(s => s.Start).ThenBy(s => s.UserId, StringComparer.Ordinal).ToList();
    }
}
