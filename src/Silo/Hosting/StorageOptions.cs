namespace SessionRec.Silo.Hosting;

/// <summary>Where the service keeps its data. See README "Configuration".</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>
    /// The local data folder of the embedded default (the in-process Garnet server's append-only file and
    /// checkpoints). Relative paths are relative to the working directory.
    /// </summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Loopback port of the embedded Garnet server; 0 picks a free one.</summary>
    public int EmbeddedPort { get; set; }

    /// <summary>How often the embedded server takes a checkpoint (and on every graceful stop); zero: only on stop.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How much of the embedded store's log stays in memory (Garnet's size syntax: 512m, 2g); older records are read
    /// from its files on disk. A restart loads at most this much, and the process holds at most this much of it.
    /// </summary>
    public string MemorySize { get; set; } = "512m";

    /// <summary>The size of one file of the embedded store's log on disk (Garnet's size syntax); at least 32m.</summary>
    public string SegmentSize { get; set; } = "1g";

    /// <summary>
    /// How many segments (<see cref="SegmentSize"/>, 1 GiB) of the embedded store's log may lie on disk before compaction copies the live records of
    /// the oldest to the tail (overwritten values are dropped), checked every <see cref="CompactionInterval"/>.
    /// The store's disk use is about this many segments plus the checkpoints; the live data must fit well inside it.
    /// 32 is Garnet's own default.
    /// </summary>
    public int CompactionSegments { get; set; } = 32;

    /// <summary>
    /// How often the embedded store checks whether to compact its log. Garnet 2.2.12 also compacts at each checkpoint
    /// (measured: with this zero, a checkpoint still freed the segments overwritten values filled).
    /// </summary>
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(5);
}
