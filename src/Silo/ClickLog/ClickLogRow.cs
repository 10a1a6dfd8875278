namespace SessionRec.Silo.ClickLog;

using System.Text.Json.Serialization;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;

/// <summary>
/// One click-log record in the export schema of docs/clicklog.md: what `sessionrec export clicklog` writes (NDJSON or
/// Parquet), what retention archives (Parquet), and what `sessionrec eval sessions` reads back.
/// </summary>
public sealed class ClickLogRow
{
    [JsonPropertyName("sequence")] public long Sequence { get; set; }
    [JsonPropertyName("event_id")] public string EventId { get; set; } = "";
    [JsonPropertyName("user_id")] public string UserId { get; set; } = "";
    [JsonPropertyName("session_id")] public string? SessionId { get; set; }
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("item_id")] public string? ItemId { get; set; }
    [JsonPropertyName("query")] public string? Query { get; set; }
    [JsonPropertyName("request_id")] public string? RequestId { get; set; }
    [JsonPropertyName("position")] public int? Position { get; set; }
    [JsonPropertyName("timestamp")] public DateTime Timestamp { get; set; }
    [JsonPropertyName("received_at")] public DateTime ReceivedAt { get; set; }
    [JsonPropertyName("surface")] public string? Surface { get; set; }
    [JsonPropertyName("shown")] public List<string>? Shown { get; set; }
    [JsonPropertyName("model_version")] public string? ModelVersion { get; set; }

    public static ClickLogRow From(ClickLogRecord record)
    {
        var e = record.Event;
        return new ClickLogRow
        {
            Sequence = record.Sequence,
            EventId = e.EventId,
            UserId = e.UserId,
            SessionId = e.SessionId,
            Type = e.Type.ToWire(),
            ItemId = e.ItemId,
            Query = e.Query,
            RequestId = e.RequestId,
            Position = e.Position,
            Timestamp = e.Timestamp.UtcDateTime,
            ReceivedAt = e.ReceivedAt.UtcDateTime,
            Surface = e.Surface,
            Shown = e.Shown?.ToList(),
            ModelVersion = e.ModelVersion,
        };
    }
}
