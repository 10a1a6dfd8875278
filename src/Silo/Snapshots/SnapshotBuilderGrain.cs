namespace SessionRec.Silo.Snapshots;

using SessionRec.Abstractions.ClickLog;

/// <summary>
/// The builder side of the snapshot mechanism: one activation per tenant follows the click log in short turns,
/// folds each record into its state, and publishes a snapshot (with its checkpoint) at most every
/// <see cref="SnapshotInterval"/>. An activation resumes from its checkpoint and reads only the log after it: a
/// failover or restart never replays the whole log (only a tenant's very first activation reads up to
/// <see cref="RebuildMaxEvents"/> records). Subclasses say what they keep, how they resume and what they publish.
/// </summary>
public abstract class SnapshotBuilderGrain(IClickLog clickLog, TimeProvider time) : Grain
{
    // Also the most records one turn reads: ~15 µs a record, so a turn stays near 0.1 s.
    private const int ReadBatch = 5_000;

    // Per partition of the tenant's log, the last sequence folded in (mutable here; a LogPosition outside).
    private long[] _last = [0];
    private LogPosition? _published;
    private DateTimeOffset _publishedAt = DateTimeOffset.MinValue;
    private bool _catchUpQueued;
    private IGrainTimer? _publishLater;
    private bool _resumed;

    // Since the last snapshot: whether a record changed the state, and how many records left it as it was.
    private bool _changed;
    private long _unchanged;

    protected string Tenant => this.GetPrimaryKeyString();

    /// <summary>The last log position folded in.</summary>
    protected LogPosition Position => LogPosition.Of(_last);

    protected abstract TimeSpan SnapshotInterval { get; }

    protected abstract TimeSpan TailInterval { get; }

    protected abstract long RebuildMaxEvents { get; }

    /// <summary>
    /// Records that leave the state as it was (the statistics ignore a recommendation's impression) make no snapshot
    /// worth writing — replicas would load the same state again — but a restart re-reads every record after the last
    /// snapshot: after this many of them (~1.5 s of re-reading) one is written anyway.
    /// </summary>
    public const long UnchangedRecordsPerSnapshot = 100_000;

    /// <summary>Loads the checkpoint; its log position, or null when there is none (the state then starts empty).</summary>
    protected abstract Task<LogPosition?> ResumeAsync();

    /// <summary>Folds one log record into the state; false when the record left the state as it was.</summary>
    protected abstract bool Observe(ClickLogRecord record);

    /// <summary>Writes the snapshot and checkpoint at <paramref name="position"/> (called off the grain's turn's CPU, inside it).</summary>
    protected abstract Task WriteAsync(LogPosition position);

    /// <summary>Asks this grain, one-way, for its next catch-up step (<see cref="ContinueCatchUpAsync"/> through the grain interface).</summary>
    protected abstract void QueueContinue();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var partitions = await clickLog.PartitionsAsync(Tenant, cancellationToken);
        if (await ResumeAsync() is { } position && position.Partitions == partitions)
        {
            _last = position.ToArray();
            _published = position;
        }
        else
        {
            // A first activation reads the most recent RebuildMaxEvents records, a share from each partition.
            // (A checkpoint of another partition count is of a log that has been repartitioned: the state resumed
            // with it is kept, and the log is read from the rebuild window again.)
            _last = (await clickLog.LastPositionAsync(Tenant, cancellationToken)).ToArray();
            var share = RebuildMaxEvents / partitions;
            for (var p = 0; p < partitions; p++)
            {
                _last[p] = Math.Max(0, _last[p] - share);
            }
        }

        _resumed = true;

        // A change inside the interval after a publish is published when the interval ends, not at the next tail tick.
        _publishLater = this.RegisterGrainTimer(
            static (grain, _) => grain.PublishIfChangedAsync(),
            this,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        await CatchUpStepAsync();
        this.RegisterGrainTimer(
            static (grain, _) => grain.CatchUpStepAsync(),
            this,
            new GrainTimerCreationOptions(TailInterval, TailInterval) { KeepAlive = false });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_resumed && !Position.Equals(_published))
        {
            await PublishAsync();
        }
    }

    /// <summary>
    /// A notice that records up to <paramref name="lastSequence"/> (in some partition) were appended: read unless
    /// every partition has read past it already.
    /// </summary>
    public Task LogAdvancedAsync(long lastSequence) =>
        lastSequence < Position.LowestNext ? Task.CompletedTask : CatchUpStepAsync();

    /// <summary>Reads the log to its end and publishes; the position reached, as its <see cref="LogPosition.Total"/>.</summary>
    public async Task<long> CatchUpAsync()
    {
        while (await ReadBatchAsync())
        {
        }

        await PublishAsync();
        await CaughtUpAsync();
        return Position.Total;
    }

    /// <summary>After a <see cref="CatchUpAsync"/> published: a builder may have every silo load the snapshot now.</summary>
    protected virtual Task CaughtUpAsync() => Task.CompletedTask;

    public Task ContinueCatchUpAsync()
    {
        _catchUpQueued = false;
        return CatchUpStepAsync();
    }

    /// <summary>Publishes now, whatever the interval (an erasure must leave the published snapshot at once).</summary>
    protected async Task PublishAsync()
    {
        var position = Position;
        await WriteAsync(position);
        _published = position;
        _publishedAt = time.GetUtcNow();
        (_changed, _unchanged) = (false, 0);
    }

    /// <summary>
    /// Whether the records read since the last snapshot make a new one worth writing: the first one always (replicas
    /// wait for it), then when the state changed, or when <paramref name="bound"/> records have been read that did not
    /// change it (so that a restart re-reads at most that many).
    /// </summary>
    public static bool WorthPublishing(bool anyPublished, bool changed, long unchanged, long bound) =>
        !anyPublished || changed || unchanged >= bound;

    /// <summary>The log position of the last snapshot written (null: none yet).</summary>
    protected LogPosition? Published => _published;

    /// <summary>
    /// Reads one batch of the log in this turn (a long log is read as a chain of short turns, one queued step at a
    /// time), then publishes a snapshot when the state changed and the last one is old enough.
    /// </summary>
    protected async Task CatchUpStepAsync()
    {
        var more = await ReadBatchAsync();
        if (more && !_catchUpQueued)
        {
            _catchUpQueued = true;
            QueueContinue();
        }

        await PublishIfChangedAsync();
    }

    private async Task PublishIfChangedAsync()
    {
        if (Position.Equals(_published) || !WorthPublishing(_published is not null, _changed, _unchanged, UnchangedRecordsPerSnapshot))
        {
            return;
        }

        var wait = SnapshotInterval - (time.GetUtcNow() - _publishedAt);
        if (wait <= TimeSpan.Zero)
        {
            await PublishAsync();
        }
        else
        {
            _publishLater?.Change(wait, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Reads the next batch of records; true when the log has more.</summary>
    private async Task<bool> ReadBatchAsync()
    {
        var page = await clickLog.ReadAsync(Tenant, Position, ReadBatch);
        foreach (var record in page.Records)
        {
            if (Observe(record))
            {
                _changed = true;
            }
            else
            {
                _unchanged++;
            }

            _last[record.Partition] = record.Sequence;
        }

        return page.More;
    }
}
