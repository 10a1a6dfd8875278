namespace SessionRec.Silo.Analytics;

using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Analytics.Sessions;

/// <summary>Click-log records as session analytics reads them (the live builder and one session's drill-down).</summary>
public static class AnalyticsRecords
{
    public static LogEvent ToLogEvent(ClickLogRecord record)
    {
        var e = record.Event;
        return new LogEvent(record.Sequence, e.UserId, e.SessionId, e.Type.ToWire(), e.ItemId, e.Query, e.RequestId, e.Position, e.Timestamp,
            e.Surface, e.Shown, e.ModelVersion, e.EventId);
    }
}
