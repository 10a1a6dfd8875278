namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;

public sealed class BaselineRecommenderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static RecommendationPipeline PipelineOver(InteractionStatistics stats, double popularityWeight = 0.1) =>
        new([(new CooccurrenceSource(stats), 1.0), (new PopularitySource(stats), popularityWeight)], new PopularitySource(stats));

    [Fact]
    public void A_snapshot_read_back_has_the_same_statistics_and_keeps_learning_alike()
    {
        var t0 = DateTimeOffset.UnixEpoch.AddYears(50);
        var original = new InteractionStatistics(TimeSpan.FromDays(1));
        original.Observe("a", 1, t0, []);
        original.Observe("b", 2, t0.AddHours(1), ["a"]);
        original.Observe("c", 3, t0.AddDays(3), ["a", "b"]);

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            original.WriteTo(writer);
        }

        stream.Position = 0;
        var copy = InteractionStatistics.ReadFrom(new BinaryReader(stream));

        // Later events land identically in both (the popularity epoch travels with the snapshot).
        original.Observe("a", 1, t0.AddDays(40), ["c"]);
        copy.Observe("a", 1, t0.AddDays(40), ["c"]);
        Assert.Equal(original.Observations, copy.Observations);
        Assert.Equal(original.ItemCount, copy.ItemCount);
        for (var i = 0; i < original.ItemCount; i++)
        {
            Assert.Equal(original.IdOf(i), copy.IdOf(i));
            Assert.Equal(original.Popularity(i), copy.Popularity(i), 12);
            Assert.Equal(original.Count(i), copy.Count(i));
            Assert.Equal(original.After(i).OrderBy(p => p.Key), copy.After(i).OrderBy(p => p.Key));
            Assert.Equal(original.Together(i).OrderBy(p => p.Key), copy.Together(i).OrderBy(p => p.Key));
        }

        Assert.True(original.After(0).Count > 0 && original.Together(2).Count > 0);
    }

    [Fact(Timeout = 30_000)]
    public void A_snapshot_reads_every_row_in_the_order_it_was_recorded_and_one_of_the_record_format_still_reads()
    {
        var t0 = DateTimeOffset.UnixEpoch.AddYears(50);
        var original = Observed(items: 30, events: 400, length: 4, maxNeighbours: 4, seed: 7, eventsPerSession: 1, weights: 3);
        var copy = ReadBack(original.WriteTo);
        AssertSameRowsInOrder(original, copy);

        // The same lists from the read copy (the replica) as from the builder's own instance.
        var query = new CandidateQuery(["i3", "i7"], null, 10);
        Assert.Equal(PipelineOver(original).Recommend(query, _ => false).Select(c => c.ItemId), PipelineOver(copy).Recommend(query, _ => false).Select(c => c.ItemId));

        // A snapshot in the record format of before (format 2: one record per item) reads to the same statistics.
        var old = ReadBack(writer =>
        {
            writer.Write(2);
            writer.Write((double)TimeSpan.FromDays(1).Ticks);
            writer.Write(original.Window);
            writer.Write(t0.UtcTicks);
            writer.Write(original.Observations);
            writer.Write(original.ItemCount);
            for (var i = 0; i < original.ItemCount; i++)
            {
                writer.Write(original.IdOf(i));
                writer.Write(original.Popularity(i));
                writer.Write(original.Count(i));
                foreach (var row in new[] { original.After(i), original.Together(i) })
                {
                    writer.Write(row.Count);
                    foreach (var (item, weight) in row)
                    {
                        writer.Write(item);
                        writer.Write(weight);
                    }
                }
            }

            original.Neighbours.WriteTo(writer);
        });
        AssertSameRowsInOrder(original, old);

        // A row naming an item the snapshot does not hold is refused, not served.
        // Format 3: a 36-byte header, the ids (short here: a length byte each), popularity, counts, the after-rows'
        // lengths, then their items.
        var bytes = Bytes(original.WriteTo);
        var n = original.ItemCount;
        var firstItem = 36 + Enumerable.Range(0, n).Sum(i => 1 + original.IdOf(i).Length) + (8 * n) + (4 * n) + (4 * n);
        Assert.Equal(Enumerable.Range(0, n).SelectMany(i => original.After(i)).First().Key, BitConverter.ToInt32(bytes, firstItem));
        BitConverter.GetBytes(n).CopyTo(bytes, firstItem);
        Assert.Throws<InvalidDataException>(() => InteractionStatistics.ReadFrom(new BinaryReader(new MemoryStream(bytes))));
    }

    [Fact(Timeout = 30_000)]
    public void A_snapshot_whose_rows_span_several_write_blocks_reads_back_every_row_in_order()
    {
        // Rows are written a block of entries at a time: this one has several blocks of each kind, and a sessions pool.
        var original = Observed(items: 1_500, events: 6_000, length: 6, maxNeighbours: 30, seed: 11, eventsPerSession: 3, weights: 1);

        var entries = Enumerable.Range(0, original.ItemCount).Sum(i => original.After(i).Count);
        Assert.True(entries > 3 * 4096, $"{entries} entries in the after-rows");
        var copy = ReadBack(original.WriteTo);
        AssertSameRowsInOrder(original, copy);
    }

    /// <summary>Statistics of random events: each after <paramref name="length"/> random items, weights 1 to <paramref name="weights"/>.</summary>
    private static InteractionStatistics Observed(int items, int events, int length, int maxNeighbours, int seed, int eventsPerSession, int weights)
    {
        var t0 = DateTimeOffset.UnixEpoch.AddYears(50); // the same as the tests' own
        var statistics = new InteractionStatistics(TimeSpan.FromDays(1), maxNeighbours: maxNeighbours);
        var random = new Random(seed);
        for (var i = 0; i < events; i++)
        {
            var session = Enumerable.Range(0, length).Select(_ => $"i{random.Next(items)}").ToArray();
            statistics.Observe($"i{random.Next(items)}", 1 + random.Next(weights), t0.AddMinutes(i), session, session: i / eventsPerSession);
        }

        return statistics;
    }

    private static InteractionStatistics ReadBack(Action<BinaryWriter> write) =>
        InteractionStatistics.ReadFrom(new BinaryReader(new MemoryStream(Bytes(write))));

    private static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    private static void AssertSameRowsInOrder(InteractionStatistics expected, InteractionStatistics actual)
    {
        Assert.Equal(expected.ItemCount, actual.ItemCount);
        Assert.Equal(expected.Observations, actual.Observations);
        for (var i = 0; i < expected.ItemCount; i++)
        {
            Assert.Equal(expected.IdOf(i), actual.IdOf(i));
            Assert.Equal(expected.Popularity(i), actual.Popularity(i));
            Assert.Equal(expected.Count(i), actual.Count(i));
            Assert.Equal(expected.After(i).ToList(), actual.After(i).ToList());
            Assert.Equal(expected.Together(i).ToList(), actual.Together(i).ToList());
            foreach (var (item, weight) in expected.Together(i))
            {
                Assert.Equal(weight, actual.Together(i)[item]);
            }
        }

        Assert.Contains(Enumerable.Range(0, expected.ItemCount), i => expected.After(i).Count > 0);
    }

    [Fact(Timeout = 30_000)]
    public void Neighbour_rows_stay_bounded_and_keep_the_strongest_pairs()
    {
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7), maxNeighbours: 10);
        var at = DateTimeOffset.UtcNow;

        // Five items follow "hub" again and again; 300 others once each, in between.
        for (var round = 0; round < 6; round++)
        {
            for (var j = 0; j < 5; j++)
            {
                statistics.Observe($"strong-{j}", 1, at, ["hub"]);
            }

            for (var i = 0; i < 50; i++)
            {
                statistics.Observe($"weak-{round}-{i}", 1, at, ["hub"]);
            }
        }

        Assert.True(statistics.TryGetIndex("hub", out var hub));
        Assert.InRange(statistics.After(hub).Count, 10, 20);
        Assert.InRange(statistics.Together(hub).Count, 10, 20);
        foreach (var j in Enumerable.Range(0, 5))
        {
            Assert.True(statistics.TryGetIndex($"strong-{j}", out var strong));
            Assert.Equal(6f, statistics.After(hub)[strong]);
            Assert.Equal(6f, statistics.Together(hub)[strong]);
        }

        // The baseline still recommends them first after "hub".
        var list = new List<Candidate>();
        new CooccurrenceSource(statistics).Collect(new CandidateQuery(["hub"], null, 5), 5, list);
        Assert.Equal(Enumerable.Range(0, 5).Select(j => $"strong-{j}").Order(), list.Select(c => c.ItemId).Order());
    }

    [Fact]
    public void ItemsSeenAfterTheSessionItemRankFirst()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(7));
        // Three sessions go a → b; one goes a → c; z is popular but never follows a.
        for (var i = 0; i < 3; i++)
        {
            stats.Observe("a", 1, T0, []);
            stats.Observe("b", 1, T0, ["a"]);
        }

        stats.Observe("a", 1, T0, []);
        stats.Observe("c", 1, T0, ["a"]);
        for (var i = 0; i < 10; i++)
        {
            stats.Observe("z", 1, T0, []);
        }

        var ranked = PipelineOver(stats).Recommend(new CandidateQuery(["a"], null, 3), id => id == "a");

        Assert.Equal(["b", "c", "z"], ranked.Select(r => r.ItemId));
        Assert.Equal(CooccurrenceSource.SourceName, ranked[0].Source);
        Assert.Equal("often chosen after a", ranked[0].Reason);
        Assert.Equal(PopularitySource.SourceName, ranked[2].Source);
    }

    [Fact]
    public void ExcludedItemsAreNeverServed()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(7));
        stats.Observe("a", 1, T0, []);
        stats.Observe("b", 1, T0, ["a"]);
        stats.Observe("c", 1, T0, ["a"]);

        var ranked = PipelineOver(stats).Recommend(new CandidateQuery(["a"], null, 10), id => id is "a" or "b");

        Assert.Equal(["c"], ranked.Select(r => r.ItemId));
    }

    [Fact]
    public void ANewUserGetsThePopularityFallback()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(7));
        stats.Observe("x", 1, T0, []);
        stats.Observe("y", 1, T0, []);
        stats.Observe("y", 1, T0, []);

        var ranked = PipelineOver(stats).Recommend(new CandidateQuery([], null, 5), _ => false);

        Assert.Equal(["y", "x"], ranked.Select(r => r.ItemId));
        Assert.All(ranked, r => Assert.Equal(PopularitySource.SourceName, r.Source));
    }

    [Fact]
    public void PopularityHalvesOverTheHalfLife()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(1));
        stats.Observe("old", 1, T0, []);
        stats.Observe("new", 1, T0.AddDays(1), []);

        stats.TryGetIndex("old", out var old);
        stats.TryGetIndex("new", out var recent);

        Assert.Equal(2.0, stats.Popularity(recent) / stats.Popularity(old), precision: 9);
    }

    [Fact]
    public void PopularityStaysFiniteOverYearsOfEvents()
    {
        var stats = new InteractionStatistics(TimeSpan.FromHours(1));
        stats.Observe("a", 1, T0, []);
        stats.Observe("b", 1, T0.AddDays(400), []);
        stats.TryGetIndex("a", out var a);
        stats.TryGetIndex("b", out var b);

        Assert.True(double.IsFinite(stats.Popularity(a)) && double.IsFinite(stats.Popularity(b)));
        Assert.True(stats.Popularity(b) > stats.Popularity(a));
    }

    [Fact]
    public void NearerPrecedingItemsLinkMoreStrongly()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(7), window: 3);
        stats.Observe("t", 1, T0, ["far", "mid", "near"]);

        stats.TryGetIndex("t", out var t);
        stats.TryGetIndex("near", out var near);
        stats.TryGetIndex("far", out var far);

        Assert.Equal(1f, stats.After(near)[t]);
        Assert.Equal(1f / 3, stats.After(far)[t], 6);
    }

    [Fact]
    public void TopKReturnsTheBestInOrderWithDeterministicTies()
    {
        var scores = new Dictionary<int, double> { [0] = 1, [1] = 5, [2] = 3, [3] = 5, [4] = 0.5 };

        var top = TopK.Select(scores, 3);

        Assert.Equal([1, 3, 2], top.Select(t => t.Item));
    }

    [Fact]
    public void ThePopularityListFollowsNewObservations()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(7));
        var source = new PopularitySource(stats, cacheSize: 2);
        stats.Observe("x", 1, T0, []);
        var first = new List<Candidate>();
        source.Collect(new CandidateQuery([], null, 1), 1, first);

        stats.Observe("y", 5, T0, []);
        var second = new List<Candidate>();
        source.Collect(new CandidateQuery([], null, 3), 3, second);

        Assert.Equal(["x"], first.Select(c => c.ItemId));
        Assert.Equal(["y", "x"], second.Select(c => c.ItemId));
    }

    [Fact]
    public void EachFallbackRanksBelowEverythingFoundBeforeIt()
    {
        var stats = new InteractionStatistics(TimeSpan.FromDays(7));
        stats.Observe("a", 1, T0, []);
        stats.Observe("b", 1, T0, ["a"]);
        var fixedList = new FixedSource("last-resort", ["z", "b", "y"]);
        var pipeline = new RecommendationPipeline([(new CooccurrenceSource(stats), 1.0)], new PopularitySource(stats), fixedList);

        var ranked = pipeline.Recommend(new CandidateQuery(["a"], null, 5), id => id == "a");

        Assert.Equal(["b", "z", "y"], ranked.Select(r => r.ItemId));
        Assert.Equal(["cooccurrence", "last-resort", "last-resort"], ranked.Select(r => r.Source));
        Assert.True(ranked[0].Score > ranked[1].Score && ranked[1].Score > ranked[2].Score);
    }

    private sealed class FixedSource(string name, IReadOnlyList<string> items) : ICandidateSource
    {
        public string Name => name;

        public void Collect(CandidateQuery query, int limit, List<Candidate> into)
        {
            for (var i = 0; i < items.Count && i < limit; i++)
            {
                into.Add(new Candidate(items[i], items.Count - i, "fixed"));
            }
        }
    }
}
