namespace SessionRec.Analytics.Metrics;

/// <summary>
/// One result as it was shown: its document or item id when known (needed to recognise the same result in two
/// lists of a session), the judged gain when the data has judgments, and the user's feedback on it at this
/// showing (0 = none; otherwise the gain of the strongest action: click, add to cart, purchase).
/// </summary>
public sealed record ShownResult(string? DocId, double? JudgedGain, double FeedbackGain);

/// <summary>One query or served list of a session: what was shown, in rank order.</summary>
public sealed record SessionQuery(IReadOnlyList<ShownResult> Results);

/// <summary>A session as the metrics see it: its queries (or served lists) in time order.</summary>
public sealed record EvalSession(IReadOnlyList<SessionQuery> Queries);

/// <summary>Where a result's gain comes from.</summary>
public enum LabelSource
{
    /// <summary>Assessors' or users' judgments (TREC grades, THUIR usefulness).</summary>
    Judged,

    /// <summary>Implicit feedback: clicks, carts, purchases (the service's own log).</summary>
    Feedback,
}
