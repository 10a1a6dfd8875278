namespace SessionRec.EventContract;

/// <summary>
/// The one rule that splits a user's events into sessions, used by every reader of the click log — the session grain,
/// the statistics and query-log builders, session analytics and the evaluation readers — so that they agree on what a
/// session is. A user's event starts a new session when the user has none yet, when it comes more than the inactivity
/// timeout after the session's last event, or when it names a session id other than the one the session was started
/// under (a session started without an id has none, so an event that names one starts a new session; events without
/// an id always continue the current session within the timeout).
/// </summary>
public static class SessionRule
{
    /// <summary>The inactivity timeout by default (the service's <c>Sessions:InactivityTimeout</c>).</summary>
    public static readonly TimeSpan DefaultInactivity = TimeSpan.FromMinutes(30);

    /// <param name="at">The event's time.</param>
    /// <param name="sessionId">The session id the event names, if any.</param>
    /// <param name="lastAt">The time of the current session's last event; null when the user has no session yet.</param>
    /// <param name="currentId">The id the current session was started under (null: none).</param>
    /// <param name="inactivity">The inactivity timeout.</param>
    public static bool StartsNew(DateTimeOffset at, string? sessionId, DateTimeOffset? lastAt, string? currentId, TimeSpan inactivity) =>
        lastAt is not { } last
        || at - last > inactivity
        || (sessionId is not null && !string.Equals(sessionId, currentId, StringComparison.Ordinal));
}
