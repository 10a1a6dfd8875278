namespace SessionRec.Analytics.Aggregates;

using SessionRec.Analytics.Sessions;

/// <summary>A click-log record in the analytics checkpoint's binary form (its user is written once per user).</summary>
internal static class LogEventCodec
{
    public static void Write(BinaryWriter writer, LogEvent record)
    {
        writer.Write(record.Sequence);
        writer.Write(record.Type);
        writer.Write(record.Timestamp.UtcTicks);
        WriteOptional(writer, record.SessionId);
        WriteOptional(writer, record.ItemId);
        WriteOptional(writer, record.Query);
        WriteOptional(writer, record.RequestId);
        WriteOptional(writer, record.Surface);
        WriteOptional(writer, record.ModelVersion);
        WriteOptional(writer, record.EventId);
        writer.Write(record.Position ?? int.MinValue);
        writer.Write(record.Shown?.Count ?? -1);
        foreach (var id in record.Shown ?? [])
        {
            writer.Write(id);
        }
    }

    public static LogEvent Read(BinaryReader reader, string userId)
    {
        var sequence = reader.ReadInt64();
        var type = reader.ReadString();
        var at = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var sessionId = ReadOptional(reader);
        var itemId = ReadOptional(reader);
        var query = ReadOptional(reader);
        var requestId = ReadOptional(reader);
        var surface = ReadOptional(reader);
        var model = ReadOptional(reader);
        var eventId = ReadOptional(reader);
        var position = reader.ReadInt32();
        var shownCount = reader.ReadInt32();
        string[]? shown = null;
        if (shownCount >= 0)
        {
            shown = new string[shownCount];
            for (var i = 0; i < shown.Length; i++)
            {
                shown[i] = reader.ReadString();
            }
        }

        return new LogEvent(sequence, userId, sessionId, type, itemId, query, requestId, position == int.MinValue ? null : position, at,
            surface, shown, model, eventId);
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
