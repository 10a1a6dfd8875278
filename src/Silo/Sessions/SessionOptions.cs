namespace SessionRec.Silo.Sessions;

using System.ComponentModel.DataAnnotations;

public sealed class SessionOptions
{
    public const string SectionName = "Sessions";

    /// <summary>A gap longer than this between two events starts a new session (<see cref="EventContract.SessionRule"/>).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan InactivityTimeout { get; set; } = EventContract.SessionRule.DefaultInactivity;

    /// <summary>Earlier sessions kept per user (newest first).</summary>
    [Range(0, 1000)]
    public int MaxRecentSessions { get; set; } = 20;

    /// <summary>Events kept per session; older events of a very long session are dropped first.</summary>
    [Range(10, 10_000)]
    public int MaxEventsPerSession { get; set; } = 200;

    /// <summary>
    /// How often a user's session state is written to storage (write-behind), once
    /// <see cref="PersistAfterEvents"/> events are unwritten. The click log is the source of truth: an activation
    /// replays the user's records logged after the stored state, so nothing acknowledged is lost between writes.
    /// Zero writes on every change.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Events applied since the last write before the write-behind timer writes the state again (it is also written
    /// when the grain deactivates). Fewer are cheaper to replay from the click log at the next activation than to
    /// write: a write serializes the whole state (live session, recent sessions, recent event ids), tens of KB for
    /// an active user. This bounds what an activation after a crash replays to about this many records per user.
    /// </summary>
    [Range(1, 10_000)]
    public int PersistAfterEvents { get; set; } = 50;

    /// <summary>Recent event ids remembered per user so that retried events are applied once.</summary>
    [Range(100, 100_000)]
    public int DedupWindow { get; set; } = 2_000;
}
