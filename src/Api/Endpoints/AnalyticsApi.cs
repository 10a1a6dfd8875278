namespace SessionRec.Api.Endpoints;

using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Analytics;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Api.Hosting;
using SessionRec.EventContract;

/// <summary>
/// Session-level analytics over the tenant's click log: the tenant's analytics grain follows the log, splits it into
/// sessions (the service's session rule and inactivity timeout), scores each with NUM and the other session metrics
/// and keeps per-day × surface × model aggregates; a report reads those and the sessions still open (never the raw
/// log); two versions can be compared (A/B readout with a normal interval). One session's drill-down reads that
/// user's records. The dashboard under /dashboard/ draws these.
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
        ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken,
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

        var report = await grains.GetGrain<IAnalyticsGrain>(user.Tenant())
            .ReportAsync(new AnalyticsQueryView(from, to, surface, model, metricName, worst ?? 10, pair?.Item1, pair?.Item2))
            .WaitAsync(cancellationToken);
        return TypedResults.Ok(new AnalyticsSessionsResponse(
            report.Metric, from, to, surface, model, report.Sessions, report.Requests, report.Records, report.Behind,
            [.. report.ByDay.Select(d => new AnalyticsDayRow(d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), d.Surface, d.ModelVersion,
                d.Sessions, d.Requests, Finite(d.Metric), d.Ctr, d.HitRate10, d.Mrr, d.Conversion))],
            [.. report.ByModel.Select(m => new AnalyticsModelRow(m.Surface, m.ModelVersion, m.Sessions, m.Requests, Finite(m.Metric.Value), Finite(m.Metric.Low), Finite(m.Metric.High),
                m.Ctr, m.HitRate10, m.Mrr, m.Conversion))],
            [.. report.Worst.Select(w => new AnalyticsSessionRow(w.SessionId, w.UserId, w.Start, w.End, w.Surface, w.ModelVersion, w.Requests, w.ClickedRequests, Finite(w.Metric)))],
            report.Comparison is { } c ? new AnalyticsComparison(c.A, c.B, report.Metric, c.SessionsA, c.SessionsB, Finite(c.MeanA.Value), Finite(c.MeanB.Value),
                Finite(c.Difference.Value), Finite(c.Difference.Low), Finite(c.Difference.High)) : null,
            known,
            report.Surfaces,
            report.Models));
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
        var session = SessionBuilder.Build(records.Select(Silo.Analytics.AnalyticsRecords.ToLogEvent), sessionOptions.Value.InactivityTimeout).FirstOrDefault(s => s.FirstSequence == first);
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
