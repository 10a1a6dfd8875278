namespace SessionRec.Abstractions.Events;

/// <summary>
/// One validated event as the service stores it. <see cref="ReceivedAt"/>, <see cref="Surface"/>,
/// <see cref="Shown"/> and <see cref="ModelVersion"/> are server-owned: clients cannot set them. The service
/// fills them in the impressions it logs for the lists it serves.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.UserEvent")]
public sealed record UserEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string UserId,
    [property: Id(2)] string? SessionId,
    [property: Id(3)] EventType Type,
    [property: Id(4)] string? ItemId,
    [property: Id(5)] string? Query,
    [property: Id(6)] string? RequestId,
    [property: Id(7)] int? Position,
    [property: Id(8)] DateTimeOffset Timestamp,
    [property: Id(9)] DateTimeOffset ReceivedAt,
    [property: Id(10)] string? Surface = null,
    [property: Id(11)] IReadOnlyList<string>? Shown = null,
    [property: Id(12)] string? ModelVersion = null);
