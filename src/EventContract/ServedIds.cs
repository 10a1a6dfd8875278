namespace SessionRec.EventContract;

/// <summary>
/// The ids of what the service logs itself: each served list's request id, and the impression recorded under
/// <c>imp-</c> + that request id. Clients learn request ids (a list names its own), so an impression's id is refused
/// from them (<see cref="EventRules"/>): no client event can repeat one, and the click log need not remember served
/// ids for deduplication — one per served list, they were most of its dedup index.
/// </summary>
public static class ServedIds
{
    private const string ImpressionPrefix = "imp-";
    private const int HexDigits = 32;

    /// <summary>A new recommendation request's id: <c>r-</c> and 32 hex digits (time-ordered).</summary>
    public static string RecommendationRequest() => "r-" + Guid.CreateVersion7().ToString("N");

    /// <summary>A new suggestion request's id: <c>s-</c> and 32 hex digits (time-ordered).</summary>
    public static string SuggestionRequest() => "s-" + Guid.CreateVersion7().ToString("N");

    /// <summary>The id of the impression the service logs when it serves request <paramref name="requestId"/>.</summary>
    public static string Impression(string requestId) => ImpressionPrefix + requestId;

    /// <summary>Whether an event id has the form of a served impression's (<c>imp-r-</c> or <c>imp-s-</c> and 32 lower-case hex digits).</summary>
    public static bool IsImpression(string eventId)
    {
        var prefix = ImpressionPrefix.Length;
        if (eventId.Length != prefix + 2 + HexDigits
            || !eventId.StartsWith(ImpressionPrefix, StringComparison.Ordinal)
            || eventId[prefix] is not ('r' or 's')
            || eventId[prefix + 1] != '-')
        {
            return false;
        }

        foreach (var c in eventId.AsSpan(prefix + 2))
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }
}
