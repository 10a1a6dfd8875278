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
    public void A_full_store_sheds_its_least_recently_seen_entities_and_counts_a_twice_named_entity_once()
    {
        var knowledge = new UserKnowledge(new KnowledgeOptions { MaxEntities = 3, Retention = TimeSpan.FromDays(365) });
        knowledge.Add(Record(0, KnowledgeSource.Viewed, "a"));
        knowledge.Add(Record(1, KnowledgeSource.Viewed, "b"));
        knowledge.Add(Record(2, KnowledgeSource.Viewed, "c", "c"));
        knowledge.Add(Record(3, KnowledgeSource.Viewed, "b"));
        knowledge.Add(Record(4, KnowledgeSource.Searched, "d"));
        Assert.Equal(["phrase:b", "phrase:c", "phrase:d"], knowledge.Aggregates.Select(a => a.Id).Order(StringComparer.Ordinal));
        Assert.Equal(1, knowledge.Aggregates.Single(a => a.Id == "phrase:c").Count);

        // Two new entities in one record push out the two least recently seen (c at day 2, then b at day 3).
        knowledge.Add(Record(5, KnowledgeSource.Viewed, "e", "f"));
        Assert.Equal(["phrase:d", "phrase:e", "phrase:f"], knowledge.Aggregates.Select(a => a.Id).Order(StringComparer.Ordinal));

        // A store restored from its written form keeps counting where it was.
        var restored = UserKnowledge.Restore(knowledge.Stream, knowledge.Aggregates, new KnowledgeOptions { MaxEntities = 3, Retention = TimeSpan.FromDays(365) });
        restored.Add(Record(6, KnowledgeSource.Bought, "d"));
        var d = restored.Aggregates.Single(a => a.Id == "phrase:d");
        Assert.Equal(2, d.Count);
        Assert.Equal(new SourceStats(1, T0.AddDays(4), T0.AddDays(4)), d.Sources[KnowledgeSource.Searched]);
        Assert.Equal(T0.AddDays(6), d.LastSeen);
    }

    [Fact]
    public void A_large_full_store_sheds_a_sixteenth_of_its_bound_at_once_keeping_the_most_recently_seen()
    {
        var knowledge = new UserKnowledge(new KnowledgeOptions { MaxEntities = 64, Retention = TimeSpan.FromDays(365) });
        for (var i = 0; i < 64; i++)
        {
            knowledge.Add(Record(i, KnowledgeSource.Viewed, $"e{i}"));
        }

        Assert.Equal(64, knowledge.Aggregates.Count);

        // One more: the store sheds to 64 − 64/16 = 60, the five least recently seen leaving; the next three fit.
        knowledge.Add(Record(64, KnowledgeSource.Viewed, "e64"));
        Assert.Equal(60, knowledge.Aggregates.Count);
        var left = knowledge.Aggregates.Select(a => a.Id).ToHashSet();
        Assert.All(Enumerable.Range(0, 5), i => Assert.DoesNotContain($"phrase:e{i}", left));
        Assert.All(Enumerable.Range(5, 60), i => Assert.Contains($"phrase:e{i}", left));
        for (var i = 65; i < 69; i++)
        {
            knowledge.Add(Record(i, KnowledgeSource.Viewed, $"e{i}"));
        }

        Assert.Equal(64, knowledge.Aggregates.Count);
        Assert.Contains(knowledge.Aggregates, a => a.Id == "phrase:e68");
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
    public void RetrievalKeepsTheBestKInTheOrderOfAFullSort()
    {
        var random = new Random(7);
        var knowledge = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(365) });
        string[] words = ["red", "lipstick", "nail", "polish", "gloss", "matte", "serum", "brush"];
        for (var i = 0; i < 300; i++)
        {
            var name = $"{words[random.Next(words.Length)]} {words[random.Next(words.Length)]}";
            knowledge.Add(new MemoryRecord(T0.AddHours(random.Next(0, 24 * 20)), (KnowledgeSource)random.Next(4), name, null, [new EntityMention($"phrase:{i % 120}", name)]));
        }

        var now = T0.AddDays(21);
        foreach (var strategy in Enum.GetValues<RetrievalStrategy>())
        {
            var all = knowledge.Retrieve(["phrase:3", "phrase:40"], ["lipsticks", "matte"], strategy, now, 1_000);
            var expected = all.OrderByDescending(r => r.Score).ThenByDescending(r => r.Entity.LastSeen).ThenBy(r => r.Entity.Id, StringComparer.Ordinal).ToList();
            Assert.Equal(expected.Select(r => r.Entity.Id), all.Select(r => r.Entity.Id));
            Assert.Equal(expected.Take(7).Select(r => r.Entity.Id), knowledge.Retrieve(["phrase:3", "phrase:40"], ["lipsticks", "matte"], strategy, now, 7).Select(r => r.Entity.Id));
        }
    }

    [Fact]
    public void RecencyRetrievalThatStopsEarlyFindsWhatScoringEveryEntityFinds()
    {
        // Asking for more entities than the store holds scores every one of them: the reference for a small k,
        // which stops at the first entity too light to reach the k-th score. Records keep arriving between the
        // requests (the kept order must follow), and one "now" lies before the latest record (no shortcut then).
        string[] words = ["red", "lipstick", "nail", "polish", "gloss", "matte", "serum", "brush"];
        for (var seed = 0; seed < 12; seed++)
        {
            var random = new Random(seed);
            var knowledge = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(365) });
            for (var round = 0; round < 6; round++)
            {
                for (var i = 0; i < 40; i++)
                {
                    var name = $"{words[random.Next(words.Length)]} {words[random.Next(words.Length)]}";
                    knowledge.Add(new MemoryRecord(T0.AddHours(random.Next(0, 24 * 40)), (KnowledgeSource)random.Next(4), name, null, [new EntityMention($"phrase:{random.Next(90)}", name)]));
                }

                var latest = knowledge.Aggregates.Max(a => a.LastSeen);
                foreach (var now in new[] { latest, latest.AddDays(3), latest.AddDays(-2) })
                {
                    string[] context = [$"phrase:{random.Next(90)}"];
                    string[] typed = [words[random.Next(words.Length)]];
                    var all = knowledge.Retrieve(context, typed, RetrievalStrategy.Recency, now, 10_000);
                    foreach (var k in new[] { 1, 3, 5, 12 })
                    {
                        var best = knowledge.Retrieve(context, typed, RetrievalStrategy.Recency, now, k);
                        Assert.Equal(all.Take(k).Select(r => (r.Entity.Id, r.Score)), best.Select(r => (r.Entity.Id, r.Score)));
                    }
                }
            }
        }
    }

    [Fact]
    public void TheWordProfileDoesNotDependOnWhenItIsAskedAndFollowsChanges()
    {
        var knowledge = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(365) });
        knowledge.Add(Record(0, KnowledgeSource.Viewed, "nail polish"));
        knowledge.Add(Record(0, KnowledgeSource.Viewed, "nail polish"));
        knowledge.Add(Record(5, KnowledgeSource.Searched, "red lipsticks"));

        var early = knowledge.WordProfile(T0.AddDays(6)).ToDictionary();
        var fresh = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(365) });
        foreach (var record in knowledge.Stream)
        {
            fresh.Add(record);
        }

        // Computed anew a month later, the weights are the same: every recency weight scales by the same factor.
        var later = fresh.WordProfile(T0.AddDays(36));
        Assert.Equal(early.Keys.Order(), later.Keys.Order());
        Assert.All(early, w => Assert.Equal(w.Value, later[w.Key], 9));
        Assert.Equal(0.5, early["nail"], 9); // the top entity's words weigh 0.5 (two views, five days older)
        Assert.InRange(early["lipstick"], 0.3, 0.49); // singular words

        knowledge.Add(Record(6, KnowledgeSource.Bought, "serum"));
        Assert.True(knowledge.WordProfile(T0.AddDays(6)).ContainsKey("serum"));
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
