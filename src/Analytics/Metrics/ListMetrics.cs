namespace SessionRec.Analytics.Metrics;

/// <summary>Per-request metrics of one served list from its impressions and feedback positions (1-based).</summary>
public static class ListMetrics
{
    /// <summary>1 when any result in the top <paramref name="k"/> got feedback, else 0.</summary>
    public static double HitRate(IEnumerable<int> feedbackPositions, int k) => feedbackPositions.Any(p => p >= 1 && p <= k) ? 1 : 0;

    /// <summary>Reciprocal rank of the first result with feedback (0 when none).</summary>
    public static double ReciprocalRank(IEnumerable<int> feedbackPositions)
    {
        var first = feedbackPositions.Where(p => p >= 1).DefaultIfEmpty(0).Min();
        return first >= 1 ? 1.0 / first : 0;
    }
}
