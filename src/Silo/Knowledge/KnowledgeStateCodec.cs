namespace SessionRec.Silo.Knowledge;

using SessionRec.KnowledgeStore.Knowledge;

/// <summary>
/// The stored form of a user's knowledge store: one byte array, written straight from the store. The grain's state
/// held the store as lists of wire records (views), serialized with reference tracking (records share entity
/// instances); making those views and tracking their references was a third of all allocation while events were
/// ingested in batches (measured, 2026-12-02). States written as views still read (<see cref="UserKnowledgeState"/>).
/// </summary>
public static class KnowledgeStateCodec
{
    private const byte Version = 1;

    public static byte[] Write(UserKnowledge knowledge)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);
            var stream = knowledge.Stream;
            writer.Write(stream.Count);
            foreach (var record in stream)
            {
                WriteTime(writer, record.At);
                writer.Write((byte)record.Source);
                writer.Write(record.Text);
                WriteOptional(writer, record.ItemId);
                writer.Write(record.Entities.Count);
                foreach (var entity in record.Entities)
                {
                    writer.Write(entity.Id);
                    writer.Write(entity.Name);
                }
            }

            // The order the view form was written in (the restored store's dictionary order follows it).
            var aggregates = knowledge.Aggregates.OrderByDescending(a => a.LastSeen).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
            writer.Write(aggregates.Count);
            foreach (var aggregate in aggregates)
            {
                writer.Write(aggregate.Id);
                writer.Write(aggregate.Name);
                writer.Write((byte)aggregate.Sources.Count);
                foreach (var (source, stats) in aggregate.Sources.OrderBy(s => s.Key))
                {
                    writer.Write((byte)source);
                    writer.Write(stats.Count);
                    WriteTime(writer, stats.FirstSeen);
                    WriteTime(writer, stats.LastSeen);
                }
            }
        }

        return buffer.ToArray();
    }

    public static UserKnowledge Read(byte[] packed, KnowledgeOptions options)
    {
        using var reader = new BinaryReader(new MemoryStream(packed, writable: false), System.Text.Encoding.UTF8);
        var version = reader.ReadByte();
        if (version != Version)
        {
            throw new InvalidDataException($"A stored knowledge state has format {version}; this build reads format {Version}.");
        }

        var stream = new MemoryRecord[reader.ReadInt32()];
        for (var i = 0; i < stream.Length; i++)
        {
            var at = ReadTime(reader);
            var source = (KnowledgeSource)reader.ReadByte();
            var text = reader.ReadString();
            var itemId = ReadOptional(reader);
            var entities = new EntityMention[reader.ReadInt32()];
            for (var e = 0; e < entities.Length; e++)
            {
                entities[e] = new EntityMention(reader.ReadString(), reader.ReadString());
            }

            stream[i] = new MemoryRecord(at, source, text, itemId, entities);
        }

        var aggregates = new EntityAggregate[reader.ReadInt32()];
        for (var i = 0; i < aggregates.Length; i++)
        {
            var id = reader.ReadString();
            var name = reader.ReadString();
            int count = reader.ReadByte();
            var sources = new Dictionary<KnowledgeSource, SourceStats>(count);
            for (var s = 0; s < count; s++)
            {
                var source = (KnowledgeSource)reader.ReadByte();
                var times = reader.ReadInt32();
                sources[source] = new SourceStats(times, ReadTime(reader), ReadTime(reader));
            }

            aggregates[i] = new EntityAggregate(id, name, sources);
        }

        return UserKnowledge.Restore(stream, aggregates, options);
    }

    private static void WriteTime(BinaryWriter writer, DateTimeOffset time)
    {
        writer.Write(time.Ticks);
        writer.Write((short)time.Offset.TotalMinutes);
    }

    private static DateTimeOffset ReadTime(BinaryReader reader)
    {
        var ticks = reader.ReadInt64();
        return new DateTimeOffset(ticks, TimeSpan.FromMinutes(reader.ReadInt16()));
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
