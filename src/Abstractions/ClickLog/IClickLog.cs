namespace SessionRec.Abstractions.ClickLog;

using SessionRec.Abstractions.Events;

/// <summary>What happened to one event offered to the click log.</summary>
public enum AppendOutcome
{
    Appended,
    Duplicate,
}

/// <summary>One click-log record: the event and its position in the tenant's log.</summary>
public sealed record ClickLogRecord(long Sequence, UserEvent Event);

/// <summary>
/// The durable, append-only click log of one deployment, partitioned by tenant.
/// Contract: recording an event id and appending the event happen in one atomic step, so an event is
/// appended at most once however often it is retried; an append returns only once the store has it.
/// </summary>
public interface IClickLog
{
    Task<IReadOnlyList<AppendOutcome>> AppendAsync(string tenant, IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Reads records with sequence ≥ <paramref name="fromSequence"/>, in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ClickLogRecord>> ReadAsync(string tenant, long fromSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>The sequence number of the newest record (0 for an empty log).</summary>
    Task<long> LastSequenceAsync(string tenant, CancellationToken cancellationToken = default);

    /// <summary>Removes every record of the user, and their event ids; returns how many records were removed.</summary>
    Task<int> EraseUserAsync(string tenant, string userId, CancellationToken cancellationToken = default);
}
