namespace SessionRec.Analytics.Metrics;

/// <summary>
/// Session-level effectiveness metrics as pure functions of a session's gains (formulas in docs/analytics.md).
/// Queries are 1-based in the formulas and 0-based in the arrays.
/// </summary>
public static class SessionMetrics
{
    /// <summary>DCG of one list to the examination depth: Σ gain(g_r) / log2(r + 1).</summary>
    public static double Dcg(IReadOnlyList<double> gains, MetricOptions options)
    {
        var sum = 0.0;
        var depth = Math.Min(options.Depth, gains.Count);
        for (var r = 0; r < depth; r++)
        {
            sum += Transform(gains[r], options) / Math.Log2(r + 2);
        }

        return sum;
    }

    /// <summary>DCG of the same list with its results in the ideal order (by gain).</summary>
    public static double IdealDcg(IReadOnlyList<double> gains, MetricOptions options) =>
        Dcg(gains.OrderByDescending(g => g).ToArray(), options);

    /// <summary>sDCG (Järvelin et al. 2008): Σ_i DCG(q_i) / (1 + log_bq(i)).</summary>
    public static double Sdcg(double[][] gains, MetricOptions options)
    {
        var sum = 0.0;
        for (var i = 0; i < gains.Length; i++)
        {
            sum += Dcg(gains[i], options) * QueryDiscount(i, options);
        }

        return sum;
    }

    /// <summary>
    /// nsDCG: sDCG over the sDCG of the same session with each query's shown results in the ideal order (the
    /// recall base is what the session showed). 0 when the session showed nothing relevant.
    /// </summary>
    public static double Nsdcg(double[][] gains, MetricOptions options)
    {
        var ideal = 0.0;
        for (var i = 0; i < gains.Length; i++)
        {
            ideal += IdealDcg(gains[i], options) * QueryDiscount(i, options);
        }

        return ideal > 0 ? Sdcg(gains, options) / ideal : 0;
    }

    /// <summary>Recency-weighted session DCG: Σ_i γ^(n−i) DCG(q_i) / Σ_i γ^(n−i) — later queries weigh more.</summary>
    public static double RecencyDcg(double[][] gains, MetricOptions options)
    {
        if (gains.Length == 0)
        {
            return 0;
        }

        double sum = 0, weights = 0;
        for (var i = 0; i < gains.Length; i++)
        {
            var w = Math.Pow(options.RecencyDecay, gains.Length - 1 - i);
            sum += w * Dcg(gains[i], options);
            weights += w;
        }

        return sum / weights;
    }

    /// <summary>
    /// sRBP (Lipani, Carterette, Yilmaz 2019): (1 − p) Σ_m ((p − bp) / (1 − bp))^(m−1) Σ_n (bp)^(n−1) r_{m,n}, with
    /// r the gain scaled into [0, 1] by the top grade.
    /// </summary>
    public static double Srbp(double[][] gains, MetricOptions options)
    {
        var p = options.RbpPersistence;
        var bp = options.RbpBalance * p;
        var queryWeight = (p - bp) / (1 - bp);
        var top = Transform(options.MaxGrade, options);
        var sum = 0.0;
        for (var m = 0; m < gains.Length; m++)
        {
            var inner = 0.0;
            var depth = Math.Min(options.Depth, gains[m].Length);
            for (var n = 0; n < depth; n++)
            {
                inner += Math.Pow(bp, n) * Math.Min(1, Transform(gains[m][n], options) / top);
            }

            sum += Math.Pow(queryWeight, m) * inner;
        }

        return (1 - p) * sum;
    }

    /// <summary>
    /// U-measure (Sakai and Dou 2013) over the session's trailtext: the user reads each examined result's snippet
    /// (and then the document when it was clicked), pays <see cref="MetricOptions.ReformulationCost"/> before
    /// every query after the first when <paramref name="reformulationCost"/> is on, and gains a result's gain
    /// once, where its snippet has been read (the user recognises it there; reading the page is time that delays
    /// everything after it), discounted by D(pos) = max(0, 1 − pos / L). A result seen again adds only what its
    /// label grew by.
    /// </summary>
    public static double U(EvalSession session, double[][] gains, MetricOptions options, bool reformulationCost)
    {
        var position = 0.0;
        var sum = 0.0;
        var credited = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < session.Queries.Count; i++)
        {
            if (i > 0 && reformulationCost)
            {
                position += options.ReformulationCost;
            }

            var results = session.Queries[i].Results;
            var depth = Math.Min(options.Depth, results.Count);
            for (var r = 0; r < depth; r++)
            {
                position += options.SnippetLength;
                var gain = Transform(gains[i][r], options);
                var key = results[r].DocId ?? $"\u0001{i}:{r}";
                var before = credited.GetValueOrDefault(key);
                if (gain > before)
                {
                    sum += (gain - before) * Decay(position, options);
                    credited[key] = gain;
                }

                if (results[r].FeedbackGain > 0)
                {
                    position += options.DocumentLength;
                }
            }
        }

        return sum;
    }

    /// <summary>
    /// U of the ideal session (NUM's assumption A1): one virtual query listing every distinct relevant result the
    /// session showed, best first, each read as a snippet only — no reformulation, no page read, nothing
    /// irrelevant in between — so no real session of the same results can do better (NUM ≤ 1), and a session
    /// that found everything at the top of its first list scores 1.
    /// </summary>
    public static double IdealU(EvalSession session, double[][] gains, MetricOptions options)
    {
        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < session.Queries.Count; i++)
        {
            var results = session.Queries[i].Results;
            for (var r = 0; r < results.Count; r++)
            {
                var key = results[r].DocId ?? $"\u0001{i}:{r}";
                best[key] = Math.Max(best.GetValueOrDefault(key), Transform(gains[i][r], options));
            }
        }

        var position = 0.0;
        var sum = 0.0;
        foreach (var gain in best.Values.Where(g => g > 0).OrderByDescending(g => g))
        {
            position += options.SnippetLength;
            sum += gain * Decay(position, options);
        }

        return sum;
    }

    /// <summary>
    /// NUM (normalised U-measure, Chen, Dou, Mao 2024): U of the actual session — with a reformulation cost and
    /// session-level click labels — over U of the ideal session. Each part is a switch: without session
    /// normalisation the result is the actual session's U itself.
    /// </summary>
    public static double Num(EvalSession session, MetricOptions options, NumParts parts)
    {
        var gains = SessionLabels.Gains(session, options.Labels, parts.ClickEnhancement);
        var actual = U(session, gains, options, parts.ReformulationCost);
        if (!parts.SessionNormalisation)
        {
            return actual;
        }

        var ideal = IdealU(session, gains, options);
        return ideal > 0 ? actual / ideal : 0;
    }

    private static double QueryDiscount(int index, MetricOptions options) =>
        1 / (1 + Math.Log(index + 1, options.QueryDiscountBase));

    private static double Decay(double position, MetricOptions options) => Math.Max(0, 1 - (position / options.Patience));

    private static double Transform(double grade, MetricOptions options) =>
        options.Gain == GainForm.Exponential ? Math.Pow(2, grade) - 1 : grade;
}
