namespace SessionRec.KnowledgeStore.Tests;

using SessionRec.KnowledgeStore.Knowledge;

public class KnowledgeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static MemoryRecord Record(int day, KnowledgeSource source, params string[] entities) =>
        new(T0.AddDays(day), source, string.Join(' ', entities), null, [.. entities.Select(e => new EntityMention("phrase:" + e, e))]);

    [Fact]
    public void AggregatesCountPerSourceWithFirstAndLastSeen()
    {
        var knowledge = new UserKnowledge();
        knowledge.Add(Record(0, KnowledgeSource.Searched, "lipstick"));
        knowledge.Add(Record(2, KnowledgeSource.Searched, "lipstick", "opi"));
        knowledge.Add(Record(3, KnowledgeSource.Bought, "lipstick"));

        var lipstick = knowledge.Aggregates.Single(a => a.Id == "phrase:lipstick");
        Assert.Equal(3, lipstick.Count);
        Assert.Equal(new SourceStats(2, T0, T0.AddDays(2)), lipstick.Sources[KnowledgeSource.Searched]);
        Assert.Equal(1, lipstick.Sources[KnowledgeSource.Bought].Count);
        Assert.Equal(T0.AddDays(3), lipstick.LastSeen);
        Assert.Equal(3, knowledge.Stream.Count);
    }

    [Fact]
    public void OnlyTheAggregatesOutliveTheRetentionWindow()
    {
        var knowledge = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(10), MaxRecords = 3 });
        knowledge.Add(Record(0, KnowledgeSource.Viewed, "old"));
        knowledge.Add(Record(20, KnowledgeSource.Viewed, "new"));
        Assert.Equal(["new"], knowledge.Stream.Select(r => r.Text));
        Assert.Contains(knowledge.Aggregates, a => a.Id == "phrase:old");

        for (var d = 21; d < 26; d++)
        {
            knowledge.Add(Record(d, KnowledgeSource.Viewed, "x"));
        }

        Assert.Equal(3, knowledge.Stream.Count);
    }

    [Fact]
    public void StrategiesPickFamiliarUnfamiliarLapsedAndRecentEntities()
    {
        var knowledge = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(365) });
        for (var i = 0; i < 5; i++)
        {
            knowledge.Add(Record(0, KnowledgeSource.Searched, "often"));
        }

        knowledge.Add(Record(1, KnowledgeSource.Searched, "once"));
        knowledge.Add(Record(29, KnowledgeSource.Viewed, "recent"));
        var now = T0.AddDays(30);

        string Top(RetrievalStrategy s) => knowledge.Retrieve([], [], s, now, 1)[0].Entity.Name;
        Assert.Equal("often", Top(RetrievalStrategy.Familiar));
        var unfamiliar = knowledge.Retrieve([], [], RetrievalStrategy.Unfamiliar, now).Select(r => r.Entity.Name).ToList();
        Assert.Equal(["recent", "once", "often"], unfamiliar); // 1/2, 1/2 (the more recent first), 1/6
        Assert.Equal("recent", Top(RetrievalStrategy.Recency));
        var lapsed = knowledge.Retrieve([], [], RetrievalStrategy.Lapsed, now);
        Assert.DoesNotContain(lapsed, r => r.Entity.Name == "recent");
        Assert.Equal("often", lapsed[0].Entity.Name);

        // An entity the context names counts fully; others half, plus their words' overlap with the context.
        double Score(IReadOnlyCollection<string> ids, IReadOnlyCollection<string> words) =>
            knowledge.Retrieve(ids, words, RetrievalStrategy.Familiar, now, 5).Single(r => r.Entity.Name == "once").Score;
        Assert.Equal(0.5, Score([], []), 9);
        Assert.Equal(1, Score(["phrase:once"], []), 9);
        Assert.Equal(1, Score([], ["once"]), 9);
    }

    [Fact]
    public void RestoringGivesBackTheSameStore()
    {
        var knowledge = new UserKnowledge();
        knowledge.Add(Record(0, KnowledgeSource.Clicked, "a", "b"));
        var copy = UserKnowledge.Restore(knowledge.Stream, knowledge.Aggregates);
        Assert.Equal(knowledge.Aggregates.OrderBy(a => a.Id).Select(a => (a.Id, a.Count)), copy.Aggregates.OrderBy(a => a.Id).Select(a => (a.Id, a.Count)));
        Assert.Equal(knowledge.Stream, copy.Stream);
    }
}
