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

    private long _nextSequence = 1;
    private long _published = -1;
    private DateTimeOffset _publishedAt = DateTimeOffset.MinValue;
    private bool _catchUpQueued;
    private IGrainTimer? _publishLater;
    private bool _resumed;

    protected string Tenant => this.GetPrimaryKeyString();

    /// <summary>The last log position folded in.</summary>
    protected long Position => _nextSequence - 1;

    protected abstract TimeSpan SnapshotInterval { get; }

    protected abstract TimeSpan TailInterval { get; }

    protected abstract long RebuildMaxEvents { get; }

    /// <summary>Loads the checkpoint; its log position, or null when there is none (the state then starts empty).</summary>
    protected abstract Task<long?> ResumeAsync();

    /// <summary>Folds one log record into the state.</summary>
    protected abstract void Observe(ClickLogRecord record);

    /// <summary>Writes the snapshot and checkpoint at <paramref name="position"/> (called off the grain's turn's CPU, inside it).</summary>
    protected abstract Task WriteAsync(long position);

    /// <summary>Asks this grain, one-way, for its next catch-up step (<see cref="ContinueCatchUpAsync"/> through the grain interface).</summary>
    protected abstract void QueueContinue();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (await ResumeAsync() is { } position)
        {
            _nextSequence = position + 1;
            _published = position;
        }
        else
        {
            var last = await clickLog.LastSequenceAsync(Tenant, cancellationToken);
            _nextSequence = Math.Max(1, last - RebuildMaxEvents + 1);
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
        if (_resumed && Position != _published)
        {
            await PublishAsync();
        }
    }

    public Task LogAdvancedAsync(long lastSequence) =>
        lastSequence < _nextSequence ? Task.CompletedTask : CatchUpStepAsync();

    public async Task<long> CatchUpAsync()
    {
        while (await ReadBatchAsync())
        {
        }

        await PublishAsync();
        await CaughtUpAsync();
        return Position;
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
    }

    /// <summary>The log position of the last snapshot written.</summary>
    protected long Published => _published;

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
        if (Position == _published)
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
        var records = await clickLog.ReadAsync(Tenant, _nextSequence, ReadBatch);
        foreach (var record in records)
        {
            Observe(record);
            _nextSequence = record.Sequence + 1;
        }

        return records.Count == ReadBatch;
    }
}
