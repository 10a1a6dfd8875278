namespace SessionRec.Analytics.Metrics;

/// <summary>Turns a session's shown results into per-position gains.</summary>
public static class SessionLabels
{
    /// <summary>
    /// The gain of every shown result, <c>gains[query][rank]</c>. With <paramref name="clickEnhancement"/> (NUM's
    /// assumption A2) a result takes the best label it got anywhere in the session, wherever it was shown: a
    /// result skipped early and clicked after a reformulation was relevant the first time too. Results without
    /// an id cannot be recognised across lists and keep their own label.
    /// </summary>
    public static double[][] Gains(EvalSession session, LabelSource source, bool clickEnhancement = false)
    {
        var gains = new double[session.Queries.Count][];
        for (var i = 0; i < gains.Length; i++)
        {
            var results = session.Queries[i].Results;
            gains[i] = new double[results.Count];
            for (var r = 0; r < results.Count; r++)
            {
                gains[i][r] = Label(results[r], source);
            }
        }

        if (!clickEnhancement)
        {
            return gains;
        }

        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        ForEachId(session, (i, r, id) => best[id] = Math.Max(best.GetValueOrDefault(id), gains[i][r]));
        ForEachId(session, (i, r, id) => gains[i][r] = best[id]);
        return gains;
    }

    public static double Label(ShownResult result, LabelSource source) => source switch
    {
        LabelSource.Judged => Math.Max(0, result.JudgedGain ?? 0),
        _ => Math.Max(0, result.FeedbackGain),
    };

    private static void ForEachId(EvalSession session, Action<int, int, string> action)
    {
        for (var i = 0; i < session.Queries.Count; i++)
        {
            var results = session.Queries[i].Results;
            for (var r = 0; r < results.Count; r++)
            {
                if (results[r].DocId is { } id)
                {
                    action(i, r, id);
                }
            }
        }
    }
}
