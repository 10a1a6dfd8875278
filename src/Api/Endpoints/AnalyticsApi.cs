namespace SessionRec.Api.Endpoints;

using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;
using SessionRec.Analytics.Statistics;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Api.Hosting;
using SessionRec.EventContract;

/// <summary>
/// Session-level analytics over the tenant's click log: sessions are rebuilt from the log (per user, 30 minutes
/// of inactivity or a new session id), scored with NUM (or another session metric) and aggregated per day and
/// per model version; two versions can be compared (A/B readout with a bootstrap interval). The dashboard under
/// /dashboard/ draws these.
/// </summary>
public static class AnalyticsApi
{
    public const int MaxWorst = 100;

    public static RouteGroupBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/analytics").WithTags("Analytics").RequireAuthorization();
        group.MapGet("/sessions", GetSessions).WithName("GetSessionAnalytics")
            .WithSummary("Per-day and per-model-version session metrics (NUM by default), CTR, HR@10, MRR, conversion; the worst sessions; an optional A/B comparison.");
        group.MapGet("/sessions/{id}", GetSession).WithName("GetSessionTimeline")
            .WithSummary("One rebuilt session (id from the worst-sessions list: <user>@<first sequence>): its timeline and served lists.");
        return group;
    }

    public static async Task<Results<Ok<AnalyticsSessionsResponse>, ProblemHttpResult>> GetSessions(
        ClaimsPrincipal user, AnalyticsLogCache cache, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null, string? surface = null, string? model = null,
        string? metric = null, string? compare = null, int? worst = null)
    {
        var options = new MetricOptions();
        var metricName = metric ?? MetricCatalogue.Num;
        var known = MetricCatalogue.All(options).Select(m => m.Name).ToList();
        if (!known.Contains(metricName, StringComparer.Ordinal))
        {
            return Problems.BadRequest("Unknown metric", $"metric must be one of {string.Join(", ", known)}; got '{metricName}'.");
        }

        if (from is not null && to is not null && from >= to)
        {
            return Problems.BadRequest("Invalid time range", "from must be before to.");
        }

        if (worst is < 0 or > MaxWorst)
        {
            return Problems.BadRequest("Invalid worst", $"worst must be between 0 and {MaxWorst}.");
        }

        (string, string)? pair = null;
        if (compare is not null)
        {
            var parts = compare.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts.Any(p => p.Length == 0) || parts[0] == parts[1])
            {
                return Problems.BadRequest("Invalid compare", "compare names two different model versions: compare=<a>,<b>.");
            }

            pair = (parts[0], parts[1]);
        }

        var log = await cache.GetAsync(user.Tenant(), cancellationToken);
        var filter = new AnalyticsFilter(from, to, surface, model, metricName);
        var report = SessionAnalytics.Summarize(log.Sessions, filter, options, worst ?? 10, pair);
        var lists = log.Sessions.SelectMany(s => s.Lists).Where(l => l.Shown.Count > 0).ToList();
        return TypedResults.Ok(new AnalyticsSessionsResponse(
            report.Metric, from, to, surface, model, report.Sessions, report.Requests, log.Records, log.Truncated,
            report.ByDay.Select(d => new AnalyticsDayRow(d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), d.Surface, d.ModelVersion,
                d.Sessions, d.Requests, Finite(d.Metric), d.Ctr, d.HitRate10, d.Mrr, d.Conversion)).ToList(),
            report.ByModel.Select(m => new AnalyticsModelRow(m.Surface, m.ModelVersion, m.Sessions, m.Requests, Finite(m.Metric.Value), Finite(m.Metric.Low), Finite(m.Metric.High),
                m.Ctr, m.HitRate10, m.Mrr, m.Conversion)).ToList(),
            report.Worst.Select(w => new AnalyticsSessionRow(w.Session.Id, w.Session.UserId, w.Session.Start, w.Session.End, w.Surface, w.ModelVersion,
                w.Requests, w.ClickedRequests, Finite(w.Metric))).ToList(),
            report.Comparison is { } c ? new AnalyticsComparison(c.A, c.B, c.Metric, c.SessionsA, c.SessionsB, Finite(c.MeanA.Value), Finite(c.MeanB.Value),
                Finite(c.Difference.Value), Finite(c.Difference.Low), Finite(c.Difference.High)) : null,
            known,
            lists.Select(l => l.Surface).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            lists.Select(l => l.ModelVersion).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()));
    }

    public static async Task<Results<Ok<AnalyticsTimelineResponse>, ProblemHttpResult>> GetSession(
        string id, ClaimsPrincipal user, IClickLog clickLog, IOptions<ApiOptions> apiOptions, IOptions<Silo.Sessions.SessionOptions> sessionOptions, CancellationToken cancellationToken)
    {
        var at = id.LastIndexOf('@');
        if (at <= 0 || !long.TryParse(id[(at + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var first))
        {
            return Problems.BadRequest("Invalid session id", "A session id is <user id>@<sequence of its first record>, as the worst-sessions list gives it.");
        }

        var userId = id[..at];
        if (FieldRules.PathIdProblem("user id", userId) is { } problem)
        {
            return Problems.BadRequest("Invalid session id", problem);
        }

        var records = await clickLog.ReadUserAsync(user.Tenant(), userId, 0, apiOptions.Value.AnalyticsMaxRecords, cancellationToken);
        var session = SessionBuilder.Build(records.Select(AnalyticsLogCache.ToLogEvent), sessionOptions.Value.InactivityTimeout).FirstOrDefault(s => s.FirstSequence == first);
        if (session is null)
        {
            return Problems.NotFound("No such session", $"No session of user '{userId}' starts at sequence {first} (it may have been erased).");
        }

        var options = new MetricOptions();
        var values = MetricCatalogue.All(options).ToDictionary(m => m.Name, m => Finite(m.Compute(session.ToEvalSession())) ?? 0);
        return TypedResults.Ok(new AnalyticsTimelineResponse(
            session.Id, session.UserId, session.Start, session.End, values,
            session.Lists.Select(l => new AnalyticsListRow(l.RequestId, l.Surface, l.ModelVersion, l.At, l.Context, l.Shown,
                l.Feedback.Select(f => new AnalyticsFeedbackRow(f.Type, f.Target, f.Position, f.At)).ToList())).ToList(),
            session.Records.Select(r => new AnalyticsEventRow(r.Sequence, r.Type, r.Timestamp, r.ItemId, r.Query, r.RequestId, r.Position, r.Surface, r.ModelVersion)).ToList()));
    }

    // JSON has no NaN: an undefined statistic (an empty group) is null.
    private static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 6) : null;
}

/// <summary>
/// The tenant's click log as rebuilt sessions, cached while the log does not grow, for at most
/// <see cref="MaxAge"/> (the dashboard asks several times for the same log). Erasing a user through this
/// instance drops the tenant's snapshot at once; through another API instance, within <see cref="MaxAge"/>.
/// At most <see cref="ApiOptions.AnalyticsMaxRecords"/> of the newest records are read; the response says when
/// older ones were left out.
/// </summary>
public sealed class AnalyticsLogCache(IClickLog clickLog, IOptions<ApiOptions> options, IOptions<Silo.Sessions.SessionOptions> sessionOptions, TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    public sealed record Snapshot(long LastSequence, long Records, bool Truncated, IReadOnlyList<LoggedSession> Sessions, DateTimeOffset BuiltAt);

    private readonly ConcurrentDictionary<string, Snapshot> _snapshots = new(StringComparer.Ordinal);

    public void Invalidate(string tenant) => _snapshots.TryRemove(tenant, out _);

    public async Task<Snapshot> GetAsync(string tenant, CancellationToken cancellationToken)
    {
        var last = await clickLog.LastSequenceAsync(tenant, cancellationToken);
        if (_snapshots.TryGetValue(tenant, out var cached) && cached.LastSequence == last && time.GetUtcNow() - cached.BuiltAt < MaxAge)
        {
            return cached;
        }

        var max = options.Value.AnalyticsMaxRecords;
        var start = Math.Max(1, last - max + 1);
        var events = new List<LogEvent>();
        for (var from = start; from <= last;)
        {
            var page = await clickLog.ReadAsync(tenant, from, ClickLogApi.MaxPage, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            events.AddRange(page.Select(ToLogEvent));
            from = page[^1].Sequence + 1;
        }

        var snapshot = new Snapshot(last, events.Count, start > 1, SessionBuilder.Build(events, sessionOptions.Value.InactivityTimeout), time.GetUtcNow());
        _snapshots[tenant] = snapshot;
        return snapshot;
    }

    public static LogEvent ToLogEvent(ClickLogRecord record)
    {
        var e = record.Event;
        return new LogEvent(record.Sequence, e.UserId, e.SessionId, e.Type.ToWire(), e.ItemId, e.Query, e.RequestId, e.Position, e.Timestamp,
            e.Surface, e.Shown, e.ModelVersion, e.EventId);
    }
}
