namespace SessionRec.Silo.Statistics;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Statistics;
using SessionRec.Models.Baseline;
using SessionRec.Silo.Catalogue;

/// <summary>
/// Follows a tenant's click log and keeps the baseline's statistics (co-occurrence, item-kNN, popularity) current,
/// publishing them as a snapshot at most every <see cref="RecommenderOptions.SnapshotInterval"/>. An activation
/// resumes from the last snapshot and its live sessions and reads only the log after it: a failover or restart
/// never replays the whole log (only a tenant's very first activation reads up to
/// <see cref="RecommenderOptions.RebuildMaxEvents"/> records).
/// </summary>
public sealed partial class StatisticsBuilderGrain(
    IClickLog clickLog,
    StatisticsSnapshotStore snapshots,
    IOptions<RecommenderOptions> options,
    IOptions<Sessions.SessionOptions> sessionOptions,
    TimeProvider time,
    ILogger<StatisticsBuilderGrain> logger) : Grain, IStatisticsBuilderGrain
{
    /// <summary>The item-kNN similarity counts pairs within this many remembered session items (as the ranker's offline twin).</summary>
    public const int SessionMemory = 5;

    // Also the most records one turn reads: ~15 µs a record, so a turn stays near 0.1 s.
    private const int ReadBatch = 5_000;

    // Live sessions remembered; past this many, the idle ones are dropped (LiveSessions).
    private const int MaxTrackedSessions = 200_000;

    private readonly RecommenderOptions _options = options.Value;
    private LiveSessions _sessions = null!;
    private InteractionStatistics _statistics = null!;
    private long _nextSequence = 1;
    private long _published = -1;
    private DateTimeOffset _publishedAt = DateTimeOffset.MinValue;
    private bool _catchUpQueued;
    private IGrainTimer? _publishLater;

    private string Tenant => this.GetPrimaryKeyString();

    private long Position => _nextSequence - 1;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _sessions = new LiveSessions(sessionOptions.Value.InactivityTimeout, SessionMemory, MaxTrackedSessions);
        var snapshot = await snapshots.ReadSnapshotAsync(Tenant);
        if (snapshot is { } found)
        {
            _statistics = found.Statistics;
            _nextSequence = found.Position + 1;
            _published = found.Position;
            await snapshots.ReadSessionsAsync(Tenant, _sessions);
            LogResumed(logger, Tenant, found.Position, _statistics.ItemCount, _sessions.Count);
        }
        else
        {
            _statistics = new InteractionStatistics(_options.PopularityHalfLife);
            var last = await clickLog.LastSequenceAsync(Tenant, cancellationToken);
            _nextSequence = Math.Max(1, last - _options.RebuildMaxEvents + 1);
        }

        // A change inside the interval after a publish is published when the interval ends, not at the next tail tick.
        _publishLater = this.RegisterGrainTimer(
            static (grain, _) => grain.PublishIfChangedAsync(),
            this,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        await CatchUpStepAsync();
        this.RegisterGrainTimer(
            static (grain, _) => grain.CatchUpStepAsync(),
            this,
            new GrainTimerCreationOptions(_options.TailInterval, _options.TailInterval) { KeepAlive = false });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_statistics is not null && Position != _published)
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
        return Position;
    }

    public Task ContinueCatchUpAsync()
    {
        _catchUpQueued = false;
        return CatchUpStepAsync();
    }

    public async Task<bool> ForgetUserAsync(string userId)
    {
        if (_sessions.Forget(userId))
        {
            await snapshots.WriteSessionsAsync(Tenant, _published, _sessions);
        }

        return !await snapshots.HoldsUserAsync(Tenant, userId);
    }

    /// <summary>
    /// Reads one batch of the log in this turn (a long log is read as a chain of short turns, one queued step at a
    /// time), then publishes a snapshot when the statistics changed and the last one is old enough.
    /// </summary>
    private async Task CatchUpStepAsync()
    {
        var more = await ReadBatchAsync();
        if (more && !_catchUpQueued)
        {
            _catchUpQueued = true;
            _ = this.AsReference<IStatisticsBuilderGrain>().ContinueCatchUpAsync();
        }

        await PublishIfChangedAsync();
    }

    private async Task PublishIfChangedAsync()
    {
        if (Position == _published)
        {
            return;
        }

        var wait = _options.SnapshotInterval - (time.GetUtcNow() - _publishedAt);
        if (wait <= TimeSpan.Zero)
        {
            await PublishAsync();
        }
        else
        {
            _publishLater?.Change(wait, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task PublishAsync()
    {
        // Serialising a large tenant's statistics takes a while: off the scheduler (the turn stays open, so
        // nothing writes them meanwhile).
        var position = Position;
        await Task.Run(() => snapshots.PublishAsync(Tenant, position, _statistics, _sessions));
        _published = position;
        _publishedAt = time.GetUtcNow();
    }

    /// <summary>Reads the next batch of records; true when the log has more.</summary>
    private async Task<bool> ReadBatchAsync()
    {
        var records = await clickLog.ReadAsync(Tenant, _nextSequence, ReadBatch);
        foreach (var record in records)
        {
            Observe(record.Event);
            _nextSequence = record.Sequence + 1;
        }

        return records.Count == ReadBatch;
    }

    private void Observe(UserEvent evt)
    {
        var weight = evt.Type switch
        {
            EventType.View or EventType.Click => 1.0,
            EventType.AddToCart => 2.0,
            EventType.Purchase => 3.0,
            _ => 0.0,
        };
        if (weight == 0 || evt.ItemId is null)
        {
            return;
        }

        var session = _sessions.For(evt.UserId, evt.SessionId, evt.Timestamp);
        _statistics.Observe(evt.ItemId, weight, evt.Timestamp, session.Items);
        _sessions.Add(session, evt.ItemId, evt.Timestamp);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: statistics resumed from the snapshot at log position {Position} ({Items} items, {Sessions} live sessions)")]
    private static partial void LogResumed(ILogger logger, string tenant, long position, int items, int sessions);
}
