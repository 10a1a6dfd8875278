namespace SessionRec.Analytics.Sessions;

/// <summary>
/// One click-log record as analytics reads it (the schema of docs/clicklog.md), whether it comes from the live
/// log, an NDJSON export or a Parquet export. <see cref="Type"/> is the wire name (view, click, impression, ...).
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
    string? ModelVersion = null);
