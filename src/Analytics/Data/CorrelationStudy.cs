namespace SessionRec.Analytics.Data;

using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Statistics;

/// <summary>One metric's agreement with the ground truth on one slice.</summary>
public sealed record CorrelationRow(string Metric, string Slice, int N, Estimate Spearman, Estimate Pearson);

/// <summary>
/// How well each session metric agrees with what users or assessors said: Pearson and Spearman correlation with
/// bootstrap intervals, every metric on the same pairs.
/// </summary>
public static class CorrelationStudy
{
    /// <summary>
    /// THUIR files (satisfaction per query). Slices: <c>query</c> — each query's satisfaction against the metric
    /// over its session up to and including that query; <c>session</c> — the whole session against the mean
    /// satisfaction of its queries. Labels are the usefulness judgments; the <c>-clicks</c> slices compute the
    /// same metrics from clicks alone, as the service must.
    /// </summary>
    public static IReadOnlyList<CorrelationRow> Thuir(IReadOnlyList<ThuirQuery> rows, MetricOptions options, int replicates = 1000)
    {
        var sessions = ThuirReader.Sessions(rows);
        var maxGrade = Math.Max(1, rows.SelectMany(r => r.Usefulness).DefaultIfEmpty(1).Max());
        var result = new List<CorrelationRow>();
        foreach (var (labels, suffix) in new[] { (LabelSource.Judged, ""), (LabelSource.Feedback, "-clicks") })
        {
            var o = options with { Labels = labels, MaxGrade = labels == LabelSource.Judged ? maxGrade : 1 };
            var prefixes = new List<EvalSession>();
            var satisfaction = new List<double>();
            foreach (var session in sessions)
            {
                for (var j = 0; j < session.Count; j++)
                {
                    prefixes.Add(ThuirReader.ToEvalSession(session.Take(j + 1)));
                    satisfaction.Add(session[j].Satisfaction);
                }
            }

            result.AddRange(Correlate(prefixes, satisfaction, o, "query" + suffix, replicates));
            result.AddRange(Correlate(
                sessions.Select(s => ThuirReader.ToEvalSession(s)).ToList(),
                sessions.Select(s => s.Average(q => (double)q.Satisfaction)).ToList(),
                o, "session" + suffix, replicates));
        }

        return result;
    }

    /// <summary>
    /// TREC Session Track (no satisfaction labels): the metrics computed from clicks, as the service computes them
    /// from its log, against the session's judged quality — the mean over its queries of DCG on the assessors'
    /// grades. Slice <c>session</c>.
    /// </summary>
    public static IReadOnlyList<CorrelationRow> Trec(
        IReadOnlyList<TrecSession> sessions, IReadOnlyDictionary<(string Topic, string DocId), int> judgments, MetricOptions options, int replicates = 1000)
    {
        var eval = sessions.Where(s => s.Interactions.Count > 0).Select(s => TrecSessionReader.ToEvalSession(s, judgments)).ToList();
        var judgedOptions = options with { Labels = LabelSource.Judged };
        var judgedQuality = eval.Select(s => JudgedQuality(s, judgedOptions)).ToList();
        return Correlate(eval, judgedQuality, options with { Labels = LabelSource.Feedback, MaxGrade = 1 }, "session", replicates);
    }

    /// <summary>Mean over the session's queries of judged DCG at the examination depth.</summary>
    public static double JudgedQuality(EvalSession session, MetricOptions options)
    {
        var gains = SessionLabels.Gains(session, LabelSource.Judged);
        return gains.Length == 0 ? 0 : gains.Average(g => SessionMetrics.Dcg(g, options));
    }

    public static IReadOnlyList<CorrelationRow> Correlate(
        IReadOnlyList<EvalSession> sessions, IReadOnlyList<double> truth, MetricOptions options, string slice, int replicates)
    {
        var rows = new List<CorrelationRow>();
        foreach (var metric in MetricCatalogue.All(options))
        {
            var values = sessions.Select(metric.Compute).ToList();
            rows.Add(new CorrelationRow(
                metric.Name, slice, sessions.Count,
                Correlation.Bootstrap(values, truth, Correlation.Spearman, replicates),
                Correlation.Bootstrap(values, truth, Correlation.Pearson, replicates)));
        }

        return rows;
    }
}
