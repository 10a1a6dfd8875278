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
}
