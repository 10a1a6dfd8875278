namespace SessionRec.Abstractions.Statistics;

/// <summary>
/// One tenant's interaction statistics builder: follows the click log, keeps co-occurrence, item-kNN and popularity
/// incrementally, and publishes an immutable snapshot at a bounded interval. Recommendations read the snapshot
/// from a replica in their own silo; nothing on a request path waits for the builder.
/// </summary>
[Alias("SessionRec.IStatisticsBuilderGrain")]
public interface IStatisticsBuilderGrain : IGrainWithStringKey
{
    /// <summary>The log has records up to <paramref name="lastSequence"/>: read them now rather than at the next tick.</summary>
    [Alias("LogAdvancedAsync"), Orleans.Concurrency.OneWay]
    Task LogAdvancedAsync(long lastSequence);

    /// <summary>Reads the log to its end and publishes a snapshot now; returns the log position it covers.</summary>
    [Alias("CatchUpAsync")]
    Task<long> CatchUpAsync();

    /// <summary>The next step of reading the log (the grain asks itself while it is behind).</summary>
    [Alias("ContinueCatchUpAsync"), Orleans.Concurrency.OneWay]
    Task ContinueCatchUpAsync();

    /// <summary>
    /// Drops the user's live-session memory, in the grain and in its stored checkpoint, before answering
    /// (aggregates over items stay: they name no user). True when a read of the stored checkpoint afterwards finds
    /// the user no more: erasure's proof.
    /// </summary>
    [Alias("ForgetUserAsync")]
    Task<bool> ForgetUserAsync(string userId);
}
