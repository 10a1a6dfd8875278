namespace SessionRec.Abstractions.Events;

using SessionRec.EventContract;

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
    /// <summary>The snake_case names clients send and the click log stores (<see cref="EventWireTypes"/>).</summary>
    public static string ToWire(this EventType type) => type switch
    {
        EventType.View => EventWireTypes.View,
        EventType.Click => EventWireTypes.Click,
        EventType.AddToCart => EventWireTypes.AddToCart,
        EventType.Purchase => EventWireTypes.Purchase,
        EventType.Search => EventWireTypes.Search,
        EventType.SuggestionClick => EventWireTypes.SuggestionClick,
        EventType.Impression => EventWireTypes.Impression,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static bool TryParse(string? wire, out EventType type)
    {
        switch (wire)
        {
            case EventWireTypes.View: type = EventType.View; return true;
            case EventWireTypes.Click: type = EventType.Click; return true;
            case EventWireTypes.AddToCart: type = EventType.AddToCart; return true;
            case EventWireTypes.Purchase: type = EventType.Purchase; return true;
            case EventWireTypes.Search: type = EventType.Search; return true;
            case EventWireTypes.SuggestionClick: type = EventType.SuggestionClick; return true;
            case EventWireTypes.Impression: type = EventType.Impression; return true;
            default: type = default; return false;
        }
    }

    public const string AllWire = EventWireTypes.All;

    /// <summary>Events that are about one catalogue item (and need an item id).</summary>
    public static bool IsItemEvent(this EventType type) =>
        type is EventType.View or EventType.Click or EventType.AddToCart or EventType.Purchase;
}
