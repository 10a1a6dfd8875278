namespace SessionRec.Analytics.Sessions;

/// <summary>
/// One click-log record as analytics reads it (the schema of docs/clicklog.md), whether it comes from the live
/// log, an NDJSON export or a Parquet export. <see cref="Type"/> is the wire name (view, click, impression, ...).
/// <see cref="EventId"/> gives a session started without an id the id the service gave it (<c>SessionRule.IdFor</c>),
/// which its impressions name; without it, such a session ends at its first record that names an id.
/// </summary>
public sealed record LogEvent(
    long Sequence,
    string UserId,
    string? SessionId,
    string Type,
    string? ItemId,
    string? Query,
    string? RequestId,
    int? Position,
    DateTimeOffset Timestamp,
    string? Surface = null,
    IReadOnlyList<string>? Shown = null,
    string? ModelVersion = null,
    string? EventId = null);
