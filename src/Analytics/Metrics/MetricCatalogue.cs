namespace SessionRec.Analytics.Metrics;

/// <summary>A session metric with the name results files and the API use.</summary>
public sealed record NamedMetric(string Name, string Description, Func<EvalSession, double> Compute);

/// <summary>The session metrics reported side by side, NUM's ablations included.</summary>
public static class MetricCatalogue
{
    public const string Num = "NUM";

    public static IReadOnlyList<NamedMetric> All(MetricOptions options) =>
    [
        new(Num, "normalised U-measure: all three parts", s => SessionMetrics.Num(s, options, NumParts.Full)),
        new("NUM-no-normalisation", "NUM without session normalisation (the actual session's U)",
            s => SessionMetrics.Num(s, options, NumParts.Full with { SessionNormalisation = false })),
        new("NUM-no-reformulation-cost", "NUM without the reformulation cost",
            s => SessionMetrics.Num(s, options, NumParts.Full with { ReformulationCost = false })),
        new("NUM-no-click-enhancement", "NUM with per-showing labels (no A2)",
            s => SessionMetrics.Num(s, options, NumParts.Full with { ClickEnhancement = false })),
        new("U-measure", "U-measure of the session trail (no normalisation, no reformulation cost, no A2)",
            s => SessionMetrics.Num(s, options, new NumParts(false, false, false))),
        new("sDCG", "session DCG, query discount 1 / (1 + log_bq i)", s => SessionMetrics.Sdcg(Gains(s, options), options)),
        new("nsDCG", "sDCG normalised by the session with each list in ideal order", s => SessionMetrics.Nsdcg(Gains(s, options), options)),
        new("sRBP", "session rank-biased precision", s => SessionMetrics.Srbp(Gains(s, options), options)),
        new("rsDCG", "recency-weighted session DCG (later queries weigh more)", s => SessionMetrics.RecencyDcg(Gains(s, options), options)),
        new("DCG-last-query", "DCG of the session's last query alone (the query-level reference)",
            s => s.Queries.Count == 0 ? 0 : SessionMetrics.Dcg(Gains(s, options)[^1], options)),
    ];

    private static double[][] Gains(EvalSession session, MetricOptions options) => SessionLabels.Gains(session, options.Labels);
}
