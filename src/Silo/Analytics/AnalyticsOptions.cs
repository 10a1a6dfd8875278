namespace SessionRec.Silo.Analytics;

using System.ComponentModel.DataAnnotations;

/// <summary>How session analytics are kept (the "Analytics" section, read by silos).</summary>
public sealed class AnalyticsOptions
{
    public const string SectionName = "Analytics";

    /// <summary>
    /// A session is added to the aggregates for good once the log's clock is this long past the inactivity timeout
    /// after its last record; feedback naming one of its lists after that is not attributed. Until then it is
    /// reported as open.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan CloseGrace { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Days of per-day aggregates kept (older days are dropped, with the digests erasure needs for them).</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 400;

    /// <summary>Days for which each day's worst sessions are kept (the worst-sessions list covers these days).</summary>
    [Range(1, 3650)]
    public int WorstDays { get; set; } = 31;

    /// <summary>Worst sessions kept per day, surface, model version and metric (the most a report can list).</summary>
    [Range(1, 1000)]
    public int WorstPerCell { get; set; } = 100;

    /// <summary>Users with open sessions past which sessions idle longer than the inactivity timeout close without the grace.</summary>
    [Range(1_000, 10_000_000)]
    public int MaxOpenUsers { get; set; } = 200_000;

    /// <summary>How often the builder follows the log's tail while active.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan TailInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Shortest time between two published aggregates (and checkpoints of the open sessions).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(10);
}
