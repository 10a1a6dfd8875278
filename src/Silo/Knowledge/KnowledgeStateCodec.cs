namespace SessionRec.Silo.Knowledge;

using SessionRec.KnowledgeStore.Knowledge;

/// <summary>
/// The stored form of a user's knowledge store: one byte array, written straight from the store. The grain's state
/// held the store as lists of wire records (views), serialized with reference tracking (records share entity
/// instances); making those views and tracking their references was a third of all allocation while events were
/// ingested in batches (measured, 2026-12-02). States written as views still read (<see cref="UserKnowledgeState"/>).
/// Format 2 writes the entities first and has each record name them by their place there (format 1, which spelled
/// every mention out in every record, still reads): 35% fewer bytes on the codec test's store, more where records
/// name more entities. Measured 2026-12-02 with events in batches of 100 on Beauty: with these writes turned off
/// (Knowledge:PersistAfterRecords 1000) the service took 26% more events/s; format 2 and the sized buffer alone did
/// not move throughput beyond the noise (four alternating runs). In a profile the codec was 5.4% of the service's CPU
/// and the storage write 2.4%; where the rest of the 26% goes (the collector, the store) is not measured yet.
/// </summary>
public static class KnowledgeStateCodec
{
    private const byte Version = 2;

    /// <param name="sizeHint">About how many bytes the last write of this store took (0: unknown): the buffer starts that large instead of doubling up to it.</param>
    public static byte[] Write(UserKnowledge knowledge, int sizeHint = 0)
    {
        using var buffer = new MemoryStream(sizeHint > 0 ? sizeHint + (sizeHint / 8) : 0);
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version);

            // The order the view form was written in (the restored store's dictionary order follows it).
            var aggregates = knowledge.Aggregates.OrderByDescending(a => a.LastSeen).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
            var place = new Dictionary<string, int>(aggregates.Count, StringComparer.Ordinal);
            writer.Write7BitEncodedInt(aggregates.Count);
            for (var i = 0; i < aggregates.Count; i++)
            {
                var aggregate = aggregates[i];
                place[aggregate.Id] = i;
                writer.Write(aggregate.Id);
                writer.Write(aggregate.Name);
                writer.Write((byte)aggregate.Sources.Count);
                foreach (var (source, stats) in aggregate.Sources.OrderBy(s => s.Key))
                {
                    writer.Write((byte)source);
                    writer.Write7BitEncodedInt(stats.Count);
                    WriteTime(writer, stats.FirstSeen);
                    WriteTime(writer, stats.LastSeen);
                }
            }

            var stream = knowledge.Stream;
            writer.Write7BitEncodedInt(stream.Count);
            foreach (var record in stream)
            {
                WriteTime(writer, record.At);
                writer.Write((byte)record.Source);
                writer.Write(record.Text);
                WriteOptional(writer, record.ItemId);
                writer.Write7BitEncodedInt(record.Entities.Count);
                foreach (var entity in record.Entities)
                {
                    // 1 + its place when the entities hold it under this name; 0 and the mention when not (an entity
                    // shed from the aggregates, or renamed since).
                    if (place.TryGetValue(entity.Id, out var at) && string.Equals(aggregates[at].Name, entity.Name, StringComparison.Ordinal))
                    {
                        writer.Write7BitEncodedInt(at + 1);
                    }
                    else
                    {
                        writer.Write7BitEncodedInt(0);
                        writer.Write(entity.Id);
                        writer.Write(entity.Name);
                    }
                }
            }
        }

        return buffer.ToArray();
    }

    public static UserKnowledge Read(byte[] packed, KnowledgeOptions options)
    {
        using var reader = new BinaryReader(new MemoryStream(packed, writable: false), System.Text.Encoding.UTF8);
        var version = reader.ReadByte();
        return version switch
        {
            1 => ReadFormat1(reader, options),
            Version => ReadFormat2(reader, options),
            _ => throw new InvalidDataException($"A stored knowledge state has format {version}; this build reads formats 1 and {Version}."),
        };
    }

    private static UserKnowledge ReadFormat2(BinaryReader reader, KnowledgeOptions options)
    {
        var aggregates = ReadAggregates(reader, reader.Read7BitEncodedInt(), static r => r.Read7BitEncodedInt());
        var mentions = aggregates.Select(a => new EntityMention(a.Id, a.Name)).ToArray();
        var stream = ReadStream(reader, reader.Read7BitEncodedInt(), static r => r.Read7BitEncodedInt(), r =>
        {
            var place = r.Read7BitEncodedInt();
            return place > 0 ? mentions[place - 1] : new EntityMention(r.ReadString(), r.ReadString());
        });
        return UserKnowledge.Restore(stream, aggregates, options);
    }

    // What builds before format 2 wrote: every record with its mentions spelled out, then the entities.
    private static UserKnowledge ReadFormat1(BinaryReader reader, KnowledgeOptions options)
    {
        var stream = ReadStream(reader, reader.ReadInt32(), static r => r.ReadInt32(), static r => new EntityMention(r.ReadString(), r.ReadString()));
        var aggregates = ReadAggregates(reader, reader.ReadInt32(), static r => r.ReadInt32());
        return UserKnowledge.Restore(stream, aggregates, options);
    }

    // The formats differ in how counts are written and in how a record names an entity; the rest is the same.
    private static MemoryRecord[] ReadStream(BinaryReader reader, int records, Func<BinaryReader, int> readCount, Func<BinaryReader, EntityMention> readMention)
    {
        var stream = new MemoryRecord[records];
        for (var i = 0; i < stream.Length; i++)
        {
            var at = ReadTime(reader);
            var source = (KnowledgeSource)reader.ReadByte();
            var text = reader.ReadString();
            var itemId = ReadOptional(reader);
            var entities = new EntityMention[readCount(reader)];
            for (var e = 0; e < entities.Length; e++)
            {
                entities[e] = readMention(reader);
            }

            stream[i] = new MemoryRecord(at, source, text, itemId, entities);
        }

        return stream;
    }

    private static EntityAggregate[] ReadAggregates(BinaryReader reader, int count, Func<BinaryReader, int> readCount)
    {
        var aggregates = new EntityAggregate[count];
        for (var i = 0; i < aggregates.Length; i++)
        {
            var id = reader.ReadString();
            var name = reader.ReadString();
            int sourceCount = reader.ReadByte();
            var sources = new Dictionary<KnowledgeSource, SourceStats>(sourceCount);
            for (var s = 0; s < sourceCount; s++)
            {
                var source = (KnowledgeSource)reader.ReadByte();
                var times = readCount(reader);
                sources[source] = new SourceStats(times, ReadTime(reader), ReadTime(reader));
            }

            aggregates[i] = new EntityAggregate(id, name, sources);
        }

        return aggregates;
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
