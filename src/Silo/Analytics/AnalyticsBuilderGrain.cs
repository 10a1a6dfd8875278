namespace SessionRec.Silo.Analytics;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Analytics;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Analytics.Aggregates;
using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Statistics;
using SessionRec.Silo.Snapshots;

/// <summary>
/// A tenant's session analytics, kept as the log grows (<see cref="SnapshotBuilderGrain"/>): each record joins its
/// user's open session (<see cref="OpenSessions"/>); a session the log's clock has closed is scored with every metric
/// and added to <see cref="SessionAggregates"/>. Reports read the aggregates and score the open sessions; nothing
/// reads the raw log but the follower. A first activation reads the whole log (in short turns; reports say
/// <c>Behind</c> meanwhile); later ones resume from the published aggregates and their checkpoint.
/// </summary>
public sealed partial class AnalyticsBuilderGrain(
    IClickLog clickLog,
    AnalyticsStore store,
    IOptions<AnalyticsOptions> options,
    IOptions<Sessions.SessionOptions> sessionOptions,
    TimeProvider time,
    ILogger<AnalyticsBuilderGrain> logger) : SnapshotBuilderGrain(clickLog, time), IAnalyticsGrain
{
    // Closed sessions are taken out of the open ones every this many records (and before every report and publish).
    private const int CloseEvery = 2_000;

    private static readonly IReadOnlyList<NamedMetric> Metrics = MetricCatalogue.All(new MetricOptions());
    private static readonly string[] MetricNames = [.. Metrics.Select(m => m.Name)];

    private readonly AnalyticsOptions _options = options.Value;
    private readonly IClickLog _log = clickLog;
    private SessionAggregates _aggregates = null!;
    private OpenSessions _open = null!;

    // Sessions added to the aggregates since the last publish: their digests are stored with the next one.
    private readonly List<SessionDigest> _added = [];
    private int _sinceClose;

    // The user whose stored digests the next publish deletes (erasure).
    private string? _erasing;

    protected override TimeSpan SnapshotInterval => _options.SnapshotInterval;

    protected override TimeSpan TailInterval => _options.TailInterval;

    // Analytics covers the whole log (up to the retention), not a recent window.
    protected override long RebuildMaxEvents => long.MaxValue / 2;

    private OpenSessions NewOpen() =>
        new(sessionOptions.Value.InactivityTimeout, _options.CloseGrace, _options.MaxOpenUsers);

    protected override async Task<LogPosition?> ResumeAsync()
    {
        if (await store.ReadAsync(Tenant, MetricNames, _options, NewOpen) is { } found)
        {
            _aggregates = found.Aggregates;
            _open = found.Open;
            LogResumed(logger, Tenant, found.Position.ToString(), _aggregates.CellCount, _open.Users);
            return found.Position;
        }

        _aggregates = new SessionAggregates(MetricNames, _options.WorstPerCell, _options.WorstDays, _options.RetentionDays);
        _open = NewOpen();
        return null;
    }

    protected override bool Observe(ClickLogRecord record)
    {
        // Every record belongs to a session that analytics scores (impressions included).
        _open.Add(AnalyticsRecords.ToLogEvent(record));
        if (++_sinceClose >= CloseEvery)
        {
            AddClosed();
        }

        return true;
    }

    private void AddClosed()
    {
        _sinceClose = 0;
        foreach (var session in _open.TakeClosed())
        {
            var digest = SessionDigest.Of(session, Metrics);
            _aggregates.Add(digest);
            _added.Add(digest);
        }
    }

    protected override async Task WriteAsync(LogPosition position)
    {
        AddClosed();
        if (_open.Clock != DateTimeOffset.MinValue)
        {
            _aggregates.Prune(SessionDigest.DayOf(_open.Clock));
        }

        await store.PublishAsync(Tenant, position, _aggregates, _open, _added, TimeSpan.FromDays(_options.RetentionDays + 1), _erasing);
        _added.Clear();
    }

    protected override void QueueContinue() => _ = this.AsReference<IAnalyticsGrain>().ContinueCatchUpAsync();

    public async Task<AnalyticsReportView> ReportAsync(AnalyticsQueryView query)
    {
        await CatchUpStepAsync();
        AddClosed();
        var last = await _log.LastPositionAsync(Tenant);
        var report = _aggregates.Report(
            new AggregateQuery(query.From, query.To, query.Surface, query.Model, query.Metric, query.Worst,
                query.CompareA is { } a && query.CompareB is { } b ? (a, b) : null),
            _open.Digests(Metrics));
        return new AnalyticsReportView(
            report.Metric, report.Sessions, report.Requests, report.Records, Position.Total, Position.IsBehind(last),
            [.. report.ByDay.Select(d => new AnalyticsDayView(d.Day, d.Surface, d.ModelVersion, d.Sessions, d.Requests, d.Metric, d.Ctr, d.HitRate10, d.Mrr, d.Conversion))],
            [.. report.ByModel.Select(m => new AnalyticsModelView(m.Surface, m.ModelVersion, m.Sessions, m.Requests, View(m.Metric), m.Ctr, m.HitRate10, m.Mrr, m.Conversion))],
            [.. report.Worst.Select(w => new AnalyticsWorstView(w.SessionId, w.UserId, w.Start, w.End, w.Surface, w.ModelVersion, w.Requests, w.ClickedRequests, w.Metric))],
            report.Comparison is { } c
                ? new AnalyticsComparisonView(c.A, c.B, c.SessionsA, c.SessionsB, View(c.MeanA), View(c.MeanB), View(c.Difference))
                : null,
            report.Surfaces,
            report.Models);
    }

    private static EstimateView View(Estimate estimate) => new(estimate.Value, estimate.Low, estimate.High);

    public async Task<bool> ForgetUserAsync(string userId)
    {
        _open.Forget(userId);
        var stored = await store.DigestsAsync(Tenant, userId);
        foreach (var digest in stored.Concat(_added.Where(d => string.Equals(d.UserId, userId, StringComparison.Ordinal))))
        {
            _aggregates.Subtract(digest);
        }

        _added.RemoveAll(d => string.Equals(d.UserId, userId, StringComparison.Ordinal));

        // Published now, with the user's digests deleted in the same transaction: the store never holds aggregates
        // without the digests that would undo them, nor digests of sessions the aggregates no longer hold.
        _erasing = userId;
        try
        {
            await PublishAsync();
        }
        finally
        {
            _erasing = null;
        }

        return !await store.HoldsUserAsync(Tenant, userId, MetricNames, NewOpen);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: analytics resumed from the aggregates at log position {Position} ({Cells} day cells, {Users} users with open sessions)")]
    private static partial void LogResumed(ILogger logger, string tenant, string position, int cells, int users);
}
