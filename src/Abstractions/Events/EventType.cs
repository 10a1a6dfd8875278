namespace SessionRec.Abstractions.Events;

/// <summary>What a user did. Numbers are part of the wire and storage format: never renumber.</summary>
[GenerateSerializer]
[Alias("SessionRec.EventType")]
public enum EventType
{
    View = 0,
    Click = 1,
    AddToCart = 2,
    Purchase = 3,
    Search = 4,
    SuggestionClick = 5,
    Impression = 6,
}

public static class EventTypes
{
    /// <summary>The snake_case names clients send and the click log stores.</summary>
    public static string ToWire(this EventType type) => type switch
    {
        EventType.View => "view",
        EventType.Click => "click",
        EventType.AddToCart => "add_to_cart",
        EventType.Purchase => "purchase",
        EventType.Search => "search",
        EventType.SuggestionClick => "suggestion_click",
        EventType.Impression => "impression",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static bool TryParse(string? wire, out EventType type)
    {
        switch (wire)
        {
            case "view": type = EventType.View; return true;
            case "click": type = EventType.Click; return true;
            case "add_to_cart": type = EventType.AddToCart; return true;
            case "purchase": type = EventType.Purchase; return true;
            case "search": type = EventType.Search; return true;
            case "suggestion_click": type = EventType.SuggestionClick; return true;
            case "impression": type = EventType.Impression; return true;
            default: type = default; return false;
        }
    }

    public const string AllWire = "view, click, add_to_cart, purchase, search, suggestion_click, impression";

    /// <summary>Events that are about one catalogue item (and need an item id).</summary>
    public static bool IsItemEvent(this EventType type) =>
        type is EventType.View or EventType.Click or EventType.AddToCart or EventType.Purchase;
}
