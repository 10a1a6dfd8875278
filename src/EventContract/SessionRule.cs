namespace SessionRec.EventContract;

/// <summary>
/// The one rule that splits a user's events into sessions, used by every reader of the click log — the session grain,
/// the statistics and query-log builders, session analytics and the evaluation readers — so that they agree on what a
/// session is. A user's event starts a new session when the user has none yet, when it comes more than the inactivity
/// timeout after the session's last event, or when it names a session id other than the session's. A session started
/// by an event that names no id gets the id <see cref="IdFor"/> derives from that event's id (the service answers
/// and logs impressions under it), so an event naming that id continues it and an event naming any other id starts a
/// new one; events without an id always continue the current session within the timeout.
/// </summary>
public static class SessionRule
{
    /// <summary>The inactivity timeout by default (the service's <c>Sessions:InactivityTimeout</c>).</summary>
    public static readonly TimeSpan DefaultInactivity = TimeSpan.FromMinutes(30);

    /// <param name="at">The event's time.</param>
    /// <param name="sessionId">The session id the event names, if any.</param>
    /// <param name="lastAt">The time of the current session's last event; null when the user has no session yet.</param>
    /// <param name="currentId">The current session's id (<see cref="IdOf"/> of the event that started it).</param>
    /// <param name="inactivity">The inactivity timeout.</param>
    public static bool StartsNew(DateTimeOffset at, string? sessionId, DateTimeOffset? lastAt, string? currentId, TimeSpan inactivity) =>
        lastAt is not { } last
        || at - last > inactivity
        || (sessionId is not null && !string.Equals(sessionId, currentId, StringComparison.Ordinal));

    /// <summary>The id of a session started by an event: the id it names, else the one derived from its event id.</summary>
    public static string IdOf(string? sessionId, string eventId) => sessionId ?? IdFor(eventId);

    /// <summary>
    /// The id the service gives a session whose first event named none: "s-" and 32 hex digits of SHA-256 of the event
    /// id — derived, not random, so replaying the log after a restart, and analytics reading it, give the session the
    /// id it had live (impressions name it).
    /// </summary>
    public static string IdFor(string firstEventId) =>
        "s-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(firstEventId)).AsSpan(0, 16));
}
