namespace SessionRec.Silo.Statistics;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Statistics;
using SessionRec.Models.Baseline;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Snapshots;

/// <summary>
/// Follows a tenant's click log and keeps the baseline's statistics (co-occurrence, item-kNN, popularity) current,
/// publishing them as a snapshot at most every <see cref="RecommenderOptions.SnapshotInterval"/>, with the live
/// sessions as its checkpoint (<see cref="SnapshotBuilderGrain"/>).
/// </summary>
public sealed partial class StatisticsBuilderGrain(
    IClickLog clickLog,
    StatisticsSnapshotStore snapshots,
    IOptions<RecommenderOptions> options,
    IOptions<Sessions.SessionOptions> sessionOptions,
    Replicas.ReplicaFanOut fanOut,
    TimeProvider time,
    ILogger<StatisticsBuilderGrain> logger) : SnapshotBuilderGrain(clickLog, time), IStatisticsBuilderGrain
{
    /// <summary>The item-kNN similarity counts pairs within this many remembered session items (as the ranker's offline twin).</summary>
    public const int SessionMemory = 5;

    // Live sessions remembered; past this many, the idle ones are dropped (LiveSessions).
    private const int MaxTrackedSessions = 200_000;

    private readonly RecommenderOptions _options = options.Value;
    private LiveSessions _sessions = null!;
    private InteractionStatistics _statistics = null!;

    protected override TimeSpan SnapshotInterval => _options.SnapshotInterval;

    protected override TimeSpan TailInterval => _options.TailInterval;

    protected override long RebuildMaxEvents => _options.RebuildMaxEvents;

    protected override async Task<LogPosition?> ResumeAsync()
    {
        // The tenant is live: its click-log retention runs while this builder does (one-way, nothing waits).
        _ = GrainFactory.GetGrain<IClickLogRetentionGrain>(Tenant).WakeAsync();
        _sessions = new LiveSessions(sessionOptions.Value.InactivityTimeout, SessionMemory, MaxTrackedSessions);
        if (await snapshots.ReadSnapshotAsync(Tenant) is { } found)
        {
            _statistics = found.Value;
            await snapshots.ReadSessionsAsync(Tenant, _sessions, _statistics.Neighbours);
            LogResumed(logger, Tenant, found.Position.ToString(), _statistics.ItemCount, _sessions.Count);
            return found.Position;
        }

        _statistics = new InteractionStatistics(_options.PopularityHalfLife, neighbourSessions: _options.NeighbourSessions, neighbourMinVotes: _options.NeighbourMinVotes);
        return null;
    }

    protected override Task WriteAsync(LogPosition position) =>
        // Serialising a large tenant's statistics takes a while: off the scheduler (the turn stays open, so
        // nothing writes them meanwhile).
        Task.Run(() => snapshots.PublishAsync(Tenant, position, _statistics, _sessions));

    protected override void QueueContinue() => _ = this.AsReference<IStatisticsBuilderGrain>().ContinueCatchUpAsync();

    public async Task<bool> ForgetUserAsync(string userId)
    {
        var live = _sessions.Forget(userId);
        if (_statistics.Neighbours.Forget(userId) > 0)
        {
            // The user's sessions are in the published snapshot's neighbour pool: publish without them, and have
            // every silo load that snapshot before answering.
            await PublishAsync();
            await fanOut.StatisticsPublishedAsync(Tenant);
        }
        else if (live)
        {
            await snapshots.WriteSessionsAsync(Tenant, Published ?? Position, _sessions, _statistics.Neighbours);
        }

        return !await snapshots.HoldsUserAsync(Tenant, userId);
    }

    protected override bool Observe(ClickLogRecord record)
    {
        var evt = record.Event;
        var weight = evt.Type switch
        {
            EventType.View or EventType.Click => 1.0,
            EventType.AddToCart => 2.0,
            EventType.Purchase => 3.0,
            _ => 0.0,
        };
        if (weight == 0 || evt.ItemId is null)
        {
            // An impression, a search: nothing the statistics count.
            return false;
        }

        var session = _sessions.For(evt.UserId, evt.SessionId, evt.EventId, evt.Timestamp);
        if (session.Number < 0)
        {
            session.Number = _statistics.Neighbours.Start(owner: evt.UserId);
        }

        _statistics.Observe(evt.ItemId, weight, evt.Timestamp, session.Items, session.Number);
        _sessions.Add(session, evt.ItemId, evt.Timestamp);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: statistics resumed from the snapshot at log position {Position} ({Items} items, {Sessions} live sessions)")]
    private static partial void LogResumed(ILogger logger, string tenant, string position, int items, int sessions);
}
