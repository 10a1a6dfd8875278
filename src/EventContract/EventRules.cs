namespace SessionRec.EventContract;

/// <summary>An event as a client (or an import) gives it, before it is checked: every field as sent.</summary>
public sealed record EventFields(
    string? EventId,
    string? UserId,
    string? SessionId,
    string? Type,
    string? ItemId,
    string? Query,
    string? RequestId,
    int? Position,
    DateTimeOffset? Timestamp);

/// <summary>
/// The times an event may claim: no older than <paramref name="MaxAge"/>, no further ahead than
/// <paramref name="MaxFutureSkew"/>. <paramref name="MaxAge"/> is never more than the click log's deduplication
/// window (<see cref="For"/>): an older event's first attempt may have been forgotten, so a retry of it could be
/// logged twice.
/// </summary>
public sealed record EventWindow(TimeSpan MaxAge, TimeSpan MaxFutureSkew)
{
    /// <summary>How long the click log remembers an event id by default (<c>ClickLog:DedupWindow</c>).</summary>
    public static readonly TimeSpan DefaultDedupWindow = TimeSpan.FromDays(7);

    /// <summary>The service's defaults (<c>Api:MaxEventAge</c> within <c>ClickLog:DedupWindow</c>, <c>Api:MaxFutureSkew</c>).</summary>
    public static readonly EventWindow Default = new(DefaultDedupWindow, TimeSpan.FromMinutes(5));

    /// <summary>The window of a configured maximum age, future skew and deduplication window.</summary>
    public static EventWindow For(TimeSpan maxAge, TimeSpan maxFutureSkew, TimeSpan dedupWindow) =>
        new(maxAge < dedupWindow ? maxAge : dedupWindow, maxFutureSkew);
}

/// <summary>The event types by the names clients send and the click log stores.</summary>
public static class EventWireTypes
{
    public const string View = "view";
    public const string Click = "click";
    public const string AddToCart = "add_to_cart";
    public const string Purchase = "purchase";
    public const string Search = "search";
    public const string SuggestionClick = "suggestion_click";
    public const string Impression = "impression";

    public const string All = "view, click, add_to_cart, purchase, search, suggestion_click, impression";

    /// <summary>Types about one catalogue item, which need an item id (an impression names the context item).</summary>
    public static bool NeedsItem(string type) => type is View or Click or AddToCart or Purchase or Impression;

    public static bool IsKnown(string? type) => type is View or Click or AddToCart or Purchase or Search or SuggestionClick or Impression;
}

/// <summary>
/// What makes an event valid and how it is normalised before it is logged — the one rule set the HTTP API and the
/// CLI's direct import apply (an import writes nothing a client could not have posted).
/// </summary>
public static class EventRules
{
    /// <summary>Why the event is refused, in a sentence naming the field; null when it is valid.</summary>
    public static string? Problem(EventFields e, DateTimeOffset now, EventWindow window)
    {
        var problem = FieldRules.IdProblem("event_id", e.EventId)
            ?? FieldRules.PathIdProblem("user_id", e.UserId)
            ?? (e.SessionId is null ? null : FieldRules.IdProblem("session_id", e.SessionId))
            ?? (e.RequestId is null ? null : FieldRules.IdProblem("request_id", e.RequestId))
            ?? FieldRules.TextProblem("query", e.Query);
        if (problem is not null)
        {
            return problem;
        }

        if (ServedIds.IsImpression(e.EventId!))
        {
            return $"event_id '{e.EventId}' is reserved: the service logs the impression of each list it serves under imp- and that list's request_id; give the event an id of its own.";
        }

        if (!EventWireTypes.IsKnown(e.Type))
        {
            return e.Type is null
                ? $"type is required: one of {EventWireTypes.All}."
                : $"Unknown event type '{Truncate(e.Type)}': use one of {EventWireTypes.All}.";
        }

        if (EventWireTypes.NeedsItem(e.Type!))
        {
            if (FieldRules.PathIdProblem("item_id", e.ItemId) is { } itemProblem)
            {
                return $"{(e.Type![0] is 'a' or 'i' ? "An" : "A")} {e.Type} event needs an item: {itemProblem}";
            }
        }
        else if (e.ItemId is not null && FieldRules.PathIdProblem("item_id", e.ItemId) is { } itemProblem)
        {
            return itemProblem;
        }

        if (e.Type == EventWireTypes.Search && string.IsNullOrWhiteSpace(e.Query))
        {
            return "A search event needs a non-empty query.";
        }

        if (e.Type == EventWireTypes.SuggestionClick && string.IsNullOrWhiteSpace(e.Query))
        {
            return "A suggestion_click event needs the clicked suggestion as query.";
        }

        if (e.Position is < 0 or > MaxPosition)
        {
            return $"position must be between 0 and {MaxPosition}.";
        }

        var timestamp = Timestamp(e, now);
        if (timestamp > now + window.MaxFutureSkew)
        {
            return $"timestamp is more than {window.MaxFutureSkew} in the future.";
        }

        if (timestamp < now - window.MaxAge)
        {
            return $"timestamp is older than {window.MaxAge.TotalDays:0.##} days: the click log remembers event ids no longer, so it could not tell a retry of it from a new event.";
        }

        return null;
    }

    /// <summary>The time an event is logged with: its own, in UTC, or the time it arrived when it has none.</summary>
    public static DateTimeOffset Timestamp(EventFields e, DateTimeOffset now) => (e.Timestamp ?? now).ToUniversalTime();

    public const int MaxPosition = 10_000;

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
