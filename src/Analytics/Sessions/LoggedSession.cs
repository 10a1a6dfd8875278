namespace SessionRec.Analytics.Sessions;

using SessionRec.Analytics.Metrics;

/// <summary>What a user did with one served result: the action, where it was in the list (1-based) and when.</summary>
public sealed record Feedback(string Type, string Target, int Position, DateTimeOffset At);

/// <summary>
/// One served list — a recommendation or suggestion request, or a search — with its impressions and the feedback
/// attributed to it. A search has no impressions in the log (the shop's search engine serves it), only its query.
/// </summary>
public sealed class ServedList(string requestId, string surface, string? modelVersion, DateTimeOffset at, string? context, IReadOnlyList<string> shown)
{
    public string RequestId { get; } = requestId;

    public string Surface { get; } = surface;

    public string? ModelVersion { get; } = modelVersion;

    public DateTimeOffset At { get; } = at;

    /// <summary>The query typed, or the context item the list was asked for.</summary>
    public string? Context { get; } = context;

    public IReadOnlyList<string> Shown { get; } = shown;

    public List<Feedback> Feedback { get; } = [];

    public bool Clicked => Feedback.Count > 0;

    public bool Converted => Feedback.Any(f => f.Type == "purchase");
}

/// <summary>A user's session rebuilt from the log: its served lists in time order and every record, for the timeline.</summary>
public sealed class LoggedSession(string userId, long firstSequence)
{
    /// <summary>Stable id: the user and the sequence of the session's first record.</summary>
    public string Id => $"{UserId}@{FirstSequence}";

    public string UserId { get; } = userId;

    public long FirstSequence { get; } = firstSequence;

    public DateTimeOffset Start => Records[0].Timestamp;

    public DateTimeOffset End => Records[^1].Timestamp;

    public List<LogEvent> Records { get; } = [];

    public List<ServedList> Lists { get; } = [];

    /// <summary>Purchases in the session, attributed to a list or not.</summary>
    public int Purchases => Records.Count(r => r.Type == "purchase");

    /// <summary>
    /// The session as the metrics see it: every served list with impressions (passing the filter) in time order,
    /// each result's feedback gain the strongest action on it from that list.
    /// </summary>
    public EvalSession ToEvalSession(Func<ServedList, bool>? filter = null, FeedbackGains? gains = null)
    {
        gains ??= FeedbackGains.Default;
        var queries = Lists.Where(l => l.Shown.Count > 0 && (filter?.Invoke(l) ?? true)).Select(list => new SessionQuery(list.Shown
            .Select((id, index) => new ShownResult(id, null, list.Feedback
                .Where(f => f.Position == index + 1 || (f.Position == 0 && f.Target == id))
                .Select(f => gains.Of(f.Type)).DefaultIfEmpty(0).Max()))
            .ToList())).ToList();
        return new EvalSession(queries);
    }
}

/// <summary>Graded implicit feedback: what each action says about a result's relevance.</summary>
public sealed record FeedbackGains(double Click = 1, double AddToCart = 2, double Purchase = 3)
{
    public static FeedbackGains Default { get; } = new();

    public double Of(string type) => type switch
    {
        "purchase" => Purchase,
        "add_to_cart" => AddToCart,
        "click" or "suggestion_click" => Click,
        _ => 0,
    };
}
