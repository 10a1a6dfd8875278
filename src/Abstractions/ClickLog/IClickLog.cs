namespace SessionRec.Abstractions.ClickLog;

using SessionRec.Abstractions.Events;

/// <summary>What happened to one event offered to the click log.</summary>
public enum AppendOutcome
{
    Appended,
    Duplicate,
}

/// <summary>What happened to one event, and its sequence number in the log (the earlier one for a duplicate).</summary>
public readonly record struct AppendResult(AppendOutcome Outcome, long Sequence);

/// <summary>
/// One click-log record: the event and its place in the tenant's log — its sequence within its
/// <see cref="Partition"/> (the partition of its user, so one user's records are in order by sequence).
/// </summary>
public sealed record ClickLogRecord(long Sequence, UserEvent Event)
{
    public int Partition { get; init; }
}

/// <summary>Records of a merged read, in arrival order, and whether the log held more after them when read.</summary>
public sealed record ClickLogPage(IReadOnlyList<ClickLogRecord> Records, bool More);

/// <summary>
/// The durable, append-only click log of one deployment: per tenant, one or more partitions by user, each with its
/// own sequence numbers (so a Redis Cluster spreads a tenant's appends over its shards).
/// Contract: recording an event id and appending the event happen in one atomic step, so an event is
/// appended at most once however often it is retried; an append returns only once the store has it. An event id
/// is deduplicated within its user's partition: a retry carries the same user, so it lands in the same one.
/// </summary>
public interface IClickLog
{
    Task<IReadOnlyList<AppendResult>> AppendAsync(string tenant, IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends records the service made itself under ids it just generated (the impressions of served lists,
    /// <see cref="SessionRec.EventContract.ServedIds"/>): no earlier record can hold those ids and clients are refused
    /// them, so they are neither looked up nor remembered in the dedup index (one id per served list, for the whole
    /// window, they were most of it). Returns the records' sequence numbers, in order,
    /// once the store has them; unlike an append of events it does not wait for them to be durable (nothing is
    /// acknowledged on them: a served list is answered before its impression is written), they become durable with
    /// the store's own commits.
    /// </summary>
    Task<IReadOnlyList<long>> AppendServedAsync(string tenant, IReadOnlyList<UserEvent> records, CancellationToken cancellationToken = default);

    /// <summary>How many partitions the tenant's log has (fixed when its first record is written; see ClickLogOptions).</summary>
    Task<int> PartitionsAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads at most <paramref name="limit"/> records after <paramref name="after"/>, the partitions merged in arrival
    /// order (each partition's records in sequence order); at least one record when the log has any after it.
    /// </summary>
    Task<ClickLogPage> ReadAsync(string tenant, LogPosition after, int limit, CancellationToken cancellationToken = default);

    /// <summary>Reads one partition's records with sequence ≥ <paramref name="fromSequence"/>, in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ClickLogRecord>> ReadPartitionAsync(string tenant, int partition, long fromSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>One user's records with sequence &gt; <paramref name="afterSequence"/>, in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ClickLogRecord>> ReadUserAsync(string tenant, string userId, long afterSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>Per partition, the sequence number of the newest record (0 for an empty partition).</summary>
    Task<LogPosition> LastPositionAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>The lowest sequence number the partition may still hold: records before it were dropped by retention (1 when none were).</summary>
    Task<long> FirstSequenceAsync(string tenant, int partition, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retention: removes these records of one partition (its oldest, already archived) from the log and the users'
    /// indexes, and moves the partition's first sequence past <paramref name="through"/>; readers then start there.
    /// </summary>
    Task DropOldestAsync(string tenant, int partition, IReadOnlyList<ClickLogRecord> records, long through, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes every record of the user, and their event ids; returns how many records were removed. Throws
    /// <see cref="ErasureIncompleteException"/> rather than return while records of the user remain.
    /// </summary>
    Task<int> EraseUserAsync(string tenant, string userId, CancellationToken cancellationToken = default);

    /// <summary>How many records of the user the log holds.</summary>
    Task<long> CountUserAsync(string tenant, string userId, CancellationToken cancellationToken = default);
}

/// <summary>An erasure could not remove everything it was asked to: it must not be reported as done.</summary>
public sealed class ErasureIncompleteException(string message) : Exception(message);
