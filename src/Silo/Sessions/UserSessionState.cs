namespace SessionRec.Silo.Sessions;

using SessionRec.Abstractions.Sessions;

/// <summary>Stored state of <see cref="UserSessionGrain"/>.</summary>
[GenerateSerializer]
[Alias("SessionRec.UserSessionState")]
public sealed class UserSessionState
{
    [Id(0)] public SessionSummary? Current { get; set; }

    /// <summary>Closed sessions, newest first.</summary>
    [Id(1)] public List<SessionSummary> Recent { get; set; } = [];

    /// <summary>Ids of the most recently applied events, oldest first.</summary>
    [Id(2)] public List<string> RecentEventIds { get; set; } = [];

    /// <summary>The highest click-log sequence applied: on activation, the user's later records are replayed.</summary>
    [Id(3)] public long AppliedThrough { get; set; }
}
