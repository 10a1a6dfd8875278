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
