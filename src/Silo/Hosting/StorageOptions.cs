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
    public string MemorySize { get; set; } = Embedded.EmbeddedGarnet.DefaultMemorySize;

    /// <summary>
    /// How many 1 GiB segments of the embedded store's log may lie on disk before compaction copies the live records of
    /// the oldest to the tail (overwritten values are dropped), checked every <see cref="CompactionInterval"/>.
    /// The store's disk use is about this many GiB plus the checkpoints; the live data must fit well inside it.
    /// </summary>
    public int CompactionSegments { get; set; } = Embedded.EmbeddedGarnet.DefaultCompactionSegments;

    /// <summary>How often the embedded store checks whether to compact its log; zero: never.</summary>
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(5);
}
