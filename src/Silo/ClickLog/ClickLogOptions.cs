namespace SessionRec.Silo.ClickLog;

using System.ComponentModel.DataAnnotations;

/// <summary>How the click log deduplicates (read by every process that appends: silos, API processes, the direct import).</summary>
public sealed class ClickLogOptions
{
    public const string SectionName = "ClickLog";

    /// <summary>
    /// How long an event id is remembered for deduplication. Each id is a key of its own that expires a day after the
    /// window, so the store holds the ids of the last window and a day (see the README for the bytes per million ids).
    /// An event whose timestamp is older than the window is refused as too old: its first attempt may have been
    /// forgotten, so it could not be told from a retry.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan DedupWindow { get; set; } = EventContract.EventWindow.DefaultDedupWindow;

    /// <summary>
    /// How many partitions (by user) a new tenant's log gets: each has its own sequence, dedup index and hash tag, so
    /// a Redis Cluster spreads one tenant's appends over its shards. 0 (the default): 1 on a single server (the
    /// embedded default, where more partitions only add work) and <see cref="ClusterPartitions"/> on a Redis Cluster.
    /// A tenant keeps the count its first record was written with; a log written before partitions has one. Every
    /// process should have the same setting. `sessionrec log repartition` splits an existing log of one partition.
    /// </summary>
    [Range(0, 256)]
    public int Partitions { get; set; }

    /// <summary>What <see cref="Partitions"/> 0 gives on a Redis Cluster: a few per master of a typical 3–8 master cluster.</summary>
    public const int ClusterPartitions = 16;

    /// <summary>
    /// How long a record stays in the log (by the time it was received). Older records are written to a Parquet file
    /// under <see cref="ArchivePath"/> and then dropped from the store, so the store holds at most this much of the
    /// log. Zero keeps every record.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Where expired records are archived, a folder per tenant; default <c>&lt;Storage:DataPath&gt;/archive</c>. In a cluster: a folder every silo sees.</summary>
    public string? ArchivePath { get; set; }

    /// <summary>How often each active tenant's expired records are archived and dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);
}
