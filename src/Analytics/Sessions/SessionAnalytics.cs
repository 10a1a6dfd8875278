namespace SessionRec.Analytics.Sessions;

using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Statistics;

/// <summary>Which sessions and lists a report covers. Times bound the session's start, [From, To).</summary>
public sealed record AnalyticsFilter(
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? Surface = null, string? Model = null, string Metric = MetricCatalogue.Num)
{
    public bool Includes(ServedList list) =>
        list.Shown.Count > 0
        && (Surface is null || string.Equals(list.Surface, Surface, StringComparison.Ordinal))
        && (Model is null || string.Equals(list.ModelVersion, Model, StringComparison.Ordinal));
}

/// <summary>
/// One session's numbers for one surface and model version: the session metric over the lists that model served on
/// that surface, and those lists' request-level metrics. A session that mixes surfaces or models has one score each.
/// </summary>
public sealed record SessionScore(
    LoggedSession Session, string Surface, string ModelVersion, int Requests, int ClickedRequests, double Metric, double HitRate10, double Mrr, bool Converted);

public sealed record DaySummary(DateOnly Day, string Surface, string ModelVersion, int Sessions, int Requests, double Metric, double Ctr, double HitRate10, double Mrr, double Conversion);

public sealed record ModelSummary(string Surface, string ModelVersion, int Sessions, int Requests, Estimate Metric, double Ctr, double HitRate10, double Mrr, double Conversion);

/// <summary>An A/B readout: mean(B) − mean(A) of the session metric, with a bootstrap interval over sessions.</summary>
public sealed record Comparison(string A, string B, string Metric, int SessionsA, int SessionsB, Estimate MeanA, Estimate MeanB, Estimate Difference);

public sealed record AnalyticsReport(
    string Metric, int Sessions, int Requests, IReadOnlyList<DaySummary> ByDay, IReadOnlyList<ModelSummary> ByModel,
    IReadOnlyList<SessionScore> Worst, Comparison? Comparison);

/// <summary>Per-day and per-model-version aggregates of sessions rebuilt from the click log.</summary>
public static class SessionAnalytics
{
    /// <summary>The model version of lists logged without one.</summary>
    public const string Unknown = "unknown";

    public static NamedMetric ResolveMetric(string name, MetricOptions options) =>
        MetricCatalogue.All(options).FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown session metric '{name}'. Known: {string.Join(", ", MetricCatalogue.All(options).Select(m => m.Name))}.");

    /// <summary>
    /// Scores every session with at least one list the filter covers, once per (surface, model version) of its lists:
    /// each served list is credited to the model that served it, never to the session's other models.
    /// </summary>
    public static IReadOnlyList<SessionScore> Score(IEnumerable<LoggedSession> sessions, AnalyticsFilter filter, MetricOptions options)
    {
        var metric = ResolveMetric(filter.Metric, options);
        var scores = new List<SessionScore>();
        foreach (var session in sessions)
        {
            if ((filter.From is not null && session.Start < filter.From) || (filter.To is not null && session.Start >= filter.To))
            {
                continue;
            }

            foreach (var slice in Slices(session))
            {
                if ((filter.Surface is not null && !string.Equals(slice.Surface, filter.Surface, StringComparison.Ordinal))
                    || (filter.Model is not null && !string.Equals(slice.ModelVersion, filter.Model, StringComparison.Ordinal)))
                {
                    continue;
                }

                var lists = slice.Lists;
                var positions = lists.Select(l => l.Feedback.Select(f => f.Position).ToList()).ToList();
                scores.Add(new SessionScore(
                    session,
                    slice.Surface,
                    slice.ModelVersion,
                    lists.Count,
                    lists.Count(l => l.Clicked),
                    metric.Compute(session.ToEvalSession(lists.Contains)),
                    positions.Average(p => ListMetrics.HitRate(p, 10)),
                    positions.Average(ListMetrics.ReciprocalRank),
                    lists.Any(l => l.Converted)));
            }
        }

        return scores;
    }

    /// <summary>
    /// A session's lists with impressions, grouped by surface and model version (lists logged without a version count
    /// as <see cref="Unknown"/>), in the order each group first appears.
    /// </summary>
    public static IEnumerable<(string Surface, string ModelVersion, HashSet<ServedList> Lists)> Slices(LoggedSession session) =>
        session.Lists.Where(l => l.Shown.Count > 0)
            .GroupBy(l => (l.Surface, Model: l.ModelVersion ?? Unknown))
            .Select(g => (g.Key.Surface, g.Key.Model, g.ToHashSet()));

    public static AnalyticsReport Summarize(
        IEnumerable<LoggedSession> sessions, AnalyticsFilter filter, MetricOptions options, int worst = 10, (string A, string B)? compare = null)
    {
        var scores = Score(sessions, filter, options);
        var byDay = scores.GroupBy(s => (Day: DateOnly.FromDateTime(s.Session.Start.UtcDateTime), s.Surface, s.ModelVersion))
            .OrderBy(g => g.Key.Day).ThenBy(g => g.Key.Surface, StringComparer.Ordinal).ThenBy(g => g.Key.ModelVersion, StringComparer.Ordinal)
            .Select(g => new DaySummary(g.Key.Day, g.Key.Surface, g.Key.ModelVersion, g.Count(), g.Sum(s => s.Requests), g.Average(s => s.Metric),
                Ctr(g), RequestMean(g, s => s.HitRate10), RequestMean(g, s => s.Mrr), g.Average(s => s.Converted ? 1.0 : 0)))
            .ToList();
        var byModel = scores.GroupBy(s => (s.Surface, s.ModelVersion))
            .OrderBy(g => g.Key.Surface, StringComparer.Ordinal).ThenBy(g => g.Key.ModelVersion, StringComparer.Ordinal)
            .Select(g => new ModelSummary(g.Key.Surface, g.Key.ModelVersion, g.Count(), g.Sum(s => s.Requests), MeanBootstrap.Mean(g.Select(s => s.Metric).ToList()),
                Ctr(g), RequestMean(g, s => s.HitRate10), RequestMean(g, s => s.Mrr), g.Average(s => s.Converted ? 1.0 : 0)))
            .ToList();
        var worstSessions = scores.OrderBy(s => s.Metric).ThenByDescending(s => s.Requests).ThenBy(s => s.Session.Id, StringComparer.Ordinal)
            .ThenBy(s => s.Surface, StringComparer.Ordinal).ThenBy(s => s.ModelVersion, StringComparer.Ordinal)
            .Take(worst).ToList();
        Comparison? comparison = null;
        if (compare is { } pair)
        {
            var a = scores.Where(s => s.ModelVersion == pair.A).Select(s => s.Metric).ToList();
            var b = scores.Where(s => s.ModelVersion == pair.B).Select(s => s.Metric).ToList();
            comparison = new Comparison(pair.A, pair.B, filter.Metric, a.Count, b.Count, MeanBootstrap.Mean(a), MeanBootstrap.Mean(b), MeanBootstrap.Difference(a, b));
        }

        var sessionCount = scores.Select(s => s.Session).Distinct().Count();
        return new AnalyticsReport(filter.Metric, sessionCount, scores.Sum(s => s.Requests), byDay, byModel, worstSessions, comparison);
    }

    // Request-weighted: a session with ten lists counts ten times, as CTR dashboards do.
    private static double Ctr(IEnumerable<SessionScore> scores)
    {
        var requests = scores.Sum(s => s.Requests);
        return requests == 0 ? 0 : (double)scores.Sum(s => s.ClickedRequests) / requests;
    }

    private static double RequestMean(IEnumerable<SessionScore> scores, Func<SessionScore, double> perSession)
    {
        var requests = scores.Sum(s => s.Requests);
        return requests == 0 ? 0 : scores.Sum(s => perSession(s) * s.Requests) / requests;
    }
}
