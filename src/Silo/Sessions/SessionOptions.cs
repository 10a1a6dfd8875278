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
    /// How often a user's session state is written to storage (write-behind). The click log is the source of
    /// truth: an activation replays the user's records logged after the stored state, so nothing acknowledged is
    /// lost between writes. Zero writes on every change.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Recent event ids remembered per user so that retried events are applied once.</summary>
    [Range(100, 100_000)]
    public int DedupWindow { get; set; } = 2_000;
}
