namespace SessionRec.Abstractions.Recommendations;

/// <summary>Limits and names every part of the service shares (the API checks requests against them; the silo serves them).</summary>
public static class RecommendationLimits
{
    /// <summary>The model version recommendations report when no model serves: co-occurrence, then popularity.</summary>
    public const string BaselineModelVersion = "baseline-cooc-1";

    /// <summary>The most multi-round retrieval rounds one request runs.</summary>
    public const int MaxRoundsPerRequest = 10;
}
