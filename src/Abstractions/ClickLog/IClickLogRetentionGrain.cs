namespace SessionRec.Abstractions.ClickLog;

/// <summary>
/// One tenant's click-log retention: while active, every <c>ClickLog:RetentionInterval</c> it archives the records
/// older than <c>ClickLog:Retention</c> to Parquet files and drops them from the store. Its turns and an erasure's
/// archive pass never interleave, so an erasure cannot miss a file a pass is writing.
/// </summary>
[Alias("SessionRec.IClickLogRetentionGrain")]
public interface IClickLogRetentionGrain : IGrainWithStringKey
{
    /// <summary>Activates the grain (its timer then runs the passes).</summary>
    [Alias("WakeAsync"), Orleans.Concurrency.OneWay]
    Task WakeAsync();

    /// <summary>Runs a pass now; returns how many records it archived and dropped.</summary>
    [Alias("RunAsync")]
    Task<int> RunAsync();

    /// <summary>Removes the user's records from every archive file; returns how many were removed (erasure).</summary>
    [Alias("ForgetUserAsync")]
    Task<int> ForgetUserAsync(string userId);
}
