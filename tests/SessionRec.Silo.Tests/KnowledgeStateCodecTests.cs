namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.Silo.Knowledge;

public class KnowledgeStateCodecTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    private static UserKnowledge Store()
    {
        var store = new UserKnowledge(new KnowledgeOptions { MaxRecords = 50 });
        var opi = new EntityMention("brand:opi", "OPI");
        var red = new EntityMention("phrase:red", "red");
        for (var i = 0; i < 30; i++)
        {
            var source = (KnowledgeSource)(i % 4);
            store.Add(new MemoryRecord(
                T0.AddMinutes(i).ToOffset(TimeSpan.FromHours(i % 3)),
                source,
                source == KnowledgeSource.Searched ? $"rouge à lèvres {i}" : $"OPI Red {i}",
                source == KnowledgeSource.Searched ? null : $"item-{i % 7}",
                i % 5 == 0 ? [] : i % 2 == 0 ? [opi, red] : [red]));
        }

        return store;
    }

    private static string Json(UserKnowledge store) => System.Text.Json.JsonSerializer.Serialize(KnowledgeMapping.ToView("u", store));

    [Fact]
    public void AStoreReadsBackAsTheStoreItWasWrittenFrom()
    {
        var store = Store();

        var read = KnowledgeStateCodec.Read(KnowledgeStateCodec.Write(store), new KnowledgeOptions { MaxRecords = 50 });

        Assert.Equal(Json(store), Json(read));
        Assert.Equal(
            store.Retrieve([], ["red"], RetrievalStrategy.Recency, T0.AddHours(1), 5).Select(r => (r.Entity.Id, r.Score)),
            read.Retrieve([], ["red"], RetrievalStrategy.Recency, T0.AddHours(1), 5).Select(r => (r.Entity.Id, r.Score)));
    }

    [Fact]
    public void AStateWrittenAsViewsStillReadsAndIsWrittenPackedTheSame()
    {
        // The form of states written before the packed one (SessionStateFormatTests has one as the previous build wrote it).
        var legacy = SessionStateFormatTests.KnowledgeSample();
        var fromViews = KnowledgeMapping.ToStore(new("u", legacy.Stream, legacy.Aggregates), new KnowledgeOptions());

        var repacked = KnowledgeStateCodec.Read(KnowledgeStateCodec.Write(fromViews), new KnowledgeOptions());

        Assert.Equal(Json(fromViews), Json(repacked));
    }

    [Fact]
    public void AStoreWrittenInFormat1StillReadsAndFormat2IsSmaller()
    {
        var store = Store();
        var format1 = WriteFormat1(store);

        var read = KnowledgeStateCodec.Read(format1, new KnowledgeOptions { MaxRecords = 50 });

        Assert.Equal(Json(store), Json(read));
        Assert.True(KnowledgeStateCodec.Write(store).Length < format1.Length * 3 / 4, "format 2 names each entity once");
        Assert.Equal(KnowledgeStateCodec.Write(store), KnowledgeStateCodec.Write(read, sizeHint: 10));
    }

    [Fact]
    public void AMentionRenamedOrShedSinceItsRecordIsKeptAsItWasNamed()
    {
        var store = new UserKnowledge(new KnowledgeOptions { MaxRecords = 50 });
        store.Add(new MemoryRecord(T0, KnowledgeSource.Viewed, "old", "a", [new EntityMention("brand:x", "X Old")]));
        store.Add(new MemoryRecord(T0.AddMinutes(1), KnowledgeSource.Viewed, "new", "b", [new EntityMention("brand:x", "X New")]));

        var read = KnowledgeStateCodec.Read(KnowledgeStateCodec.Write(store), new KnowledgeOptions { MaxRecords = 50 });

        Assert.Equal(["X Old", "X New"], read.Stream.Select(r => r.Entities.Single().Name));
        Assert.Equal(Json(store), Json(read));
    }

    // The layout builds before format 2 wrote (KnowledgeStateCodec format 1), to prove such states still read.
    private static byte[] WriteFormat1(UserKnowledge knowledge)
    {
        static void Time(BinaryWriter w, DateTimeOffset t)
        {
            w.Write(t.Ticks);
            w.Write((short)t.Offset.TotalMinutes);
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)1);
            writer.Write(knowledge.Stream.Count);
            foreach (var record in knowledge.Stream)
            {
                Time(writer, record.At);
                writer.Write((byte)record.Source);
                writer.Write(record.Text);
                writer.Write(record.ItemId is not null);
                if (record.ItemId is not null)
                {
                    writer.Write(record.ItemId);
                }

                writer.Write(record.Entities.Count);
                foreach (var entity in record.Entities)
                {
                    writer.Write(entity.Id);
                    writer.Write(entity.Name);
                }
            }

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
                    Time(writer, stats.FirstSeen);
                    Time(writer, stats.LastSeen);
                }
            }
        }

        return buffer.ToArray();
    }

    [Fact]
    public void APackedStateRoundTripsThroughTheGrainStorageSerializer()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var state = new UserKnowledgeState { Packed = KnowledgeStateCodec.Write(Store()), AppliedThrough = 42 };

        var read = serializer.Deserialize<UserKnowledgeState>(serializer.SerializeToArray(state))!;

        Assert.Equal(state.Packed, read.Packed);
        Assert.Equal(42, read.AppliedThrough);
        Assert.Empty(read.Stream);
    }
}
