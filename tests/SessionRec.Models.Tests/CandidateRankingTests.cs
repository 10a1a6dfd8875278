namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;

/// <summary>
/// Ranking over an approximate index's candidates: the same formula as the full scan on the rows it scores, rows
/// changed or added after the index was built included, and the approximate retrieval close to the exact one.
/// </summary>
public sealed class CandidateRankingTests
{
    private const int Dim = 16;

    /// <summary>Items in 40 clusters (like item vectors of a catalogue), and statistics where some follow others.</summary>
    private static (ItemVectorIndex Index, InteractionStatistics Statistics, Random Random) Catalogue(int items, bool cosine)
    {
        var random = new Random(7);
        var index = ClusteredVectors.Index(ClusteredVectors.Make(random, items, Dim, centres: 40, spread: 0.5f), Dim, "i", cosine: cosine);
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        for (var s = 0; s < 300; s++)
        {
            var previous = new List<string>();
            for (var step = 0; step < 4; step++)
            {
                var item = $"i{random.Next(items / 10)}";
                statistics.Observe(item, 1, at, previous);
                previous.Add(item);
            }
        }

        return (index, statistics, random);
    }

    private static List<Candidate> Rank(ItemVectorIndex index, InteractionStatistics statistics, float[] session, string[] items, int annCandidates)
    {
        var into = new List<Candidate>();
        new ModelRankerSource(index, session, statistics, new FusionWeights(0.7f, 1.3f, 0.2f, 0.4f), annCandidates: annCandidates)
            .Collect(new CandidateQuery(items, null, 50), 50, into);
        return into;
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public void With_every_row_retrieved_the_candidate_ranking_equals_the_full_scan(bool cosine)
    {
        var (index, statistics, random) = Catalogue(1_500, cosine);
        var session = Enumerable.Range(0, Dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        string[] items = ["i3", "i17", "i42"];
        var full = Rank(index, statistics, session, items, 400);

        var build = index.BeginAnn();
        using var ann = AnnIndex.Build(index, build.Rows);
        Assert.Null(index.AttachAnn(ann, build));

        // Changed and added after the build: the approximate index holds neither; they are scanned exactly.
        var changed = Enumerable.Range(0, Dim).Select(d => session[d] * 3).ToArray();
        index.Set(["i900", "new-1"], [.. changed, .. changed]);
        Assert.Equal([900], index.Ann!.Changed);
        var fullAfter = RankWithout(index, statistics, session, items);
        var candidates = Rank(index, statistics, session, items, 2_000);

        Assert.Equal(fullAfter.Select(c => c.ItemId), candidates.Select(c => c.ItemId));
        Assert.Equal(fullAfter.Select(c => c.Reason), candidates.Select(c => c.Reason));
        Assert.All(fullAfter.Zip(candidates), p => Assert.Equal(p.First.Score, p.Second.Score, 4));
        Assert.Contains("i900", candidates.Take(10).Select(c => c.ItemId));
        Assert.Contains("new-1", candidates.Take(10).Select(c => c.ItemId));
        Assert.NotEqual(full.Select(c => c.ItemId), candidates.Select(c => c.ItemId));
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public void With_every_row_a_candidate_each_term_ranks_as_in_the_full_scan(bool cosine)
    {
        // The served shape (64 dimensions), every row a candidate, sessions near an item (a tight top): the full scan
        // reaches its list through an int8 first pass and bounds, the candidate ranking scores each candidate in full;
        // with a prior (negative popularity, new items), co-occurrence and item-kNN terms, and multi-round terms on some
        // rows, every list must be the same.
        const int Rows = 3_000;
        var random = new Random(11);
        var index = ClusteredVectors.Index(ClusteredVectors.Make(random, Rows, 64, centres: 30, spread: 0.3f), 64, "i", cosine: cosine);
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        for (var s = 0; s < 400; s++)
        {
            var previous = new List<string>();
            for (var step = 0; step < 5; step++)
            {
                var item = $"i{random.Next(Rows / 5)}";
                statistics.Observe(item, 1, at, previous);
                previous.Add(item);
            }
        }

        var rounds = Enumerable.Range(0, 60).Select(i => i * 47).ToDictionary(row => row, row => 1 + (row % 3));
        var weights = new FusionWeights(0.7f, 1.3f, -0.3f, 0.4f, MultiRound: 0.5f);
        List<Candidate> Ranked(float[] session, string[] items) => RankWith(index, statistics, session, items, weights, rounds);

        var build = index.BeginAnn();
        using var ann = AnnIndex.Build(index, build.Rows);
        Assert.Null(index.AttachAnn(ann, build));
        for (var q = 0; q < 40; q++)
        {
            var near = index.Vector(random.Next(Rows)).ToArray();
            var session = near.Select(v => (v * 2) + (((float)random.NextDouble() - 0.5f) * 0.2f)).ToArray();
            string[] items = [$"i{random.Next(Rows / 5)}", $"i{random.Next(Rows / 5)}", $"i{random.Next(Rows / 5)}"];
            var candidates = Ranked(session, items);
            var full = WithoutAnn(index, () => Ranked(session, items));

            Assert.Equal(70, candidates.Count);
            Assert.Equal(full.Select(c => c.ItemId), candidates.Select(c => c.ItemId));
            Assert.Equal(full.Select(c => c.Reason), candidates.Select(c => c.Reason));
            Assert.All(full.Zip(candidates), p => Assert.Equal(p.First.Score, p.Second.Score, 4));
        }
    }

    private static List<Candidate> RankWith(ItemVectorIndex index, InteractionStatistics statistics, float[] session, string[] items, FusionWeights weights, IReadOnlyDictionary<int, int> rounds)
    {
        var into = new List<Candidate>();
        new ModelRankerSource(index, session, statistics, weights, rounds: rounds, trainedRounds: 3, annCandidates: index.Count)
            .Collect(new CandidateQuery(items, null, 70), 70, into);
        return into;
    }

    /// <summary>What <paramref name="rank"/> gives with the index's approximate index set aside (the full scan).</summary>
    private static T WithoutAnn<T>(ItemVectorIndex index, Func<T> rank)
    {
        var build = index.BeginAnn();
        var ann = index.DetachAnn()!;
        try
        {
            return rank();
        }
        finally
        {
            index.AttachAnn(ann, build with { ChangesSeen = 0 });
        }
    }

    [Fact(Timeout = 60_000)]
    public void Of_many_rows_added_after_the_build_the_nearest_are_candidates_and_rank_as_in_the_full_scan()
    {
        var (index, statistics, random) = Catalogue(1_500, cosine: false);
        var session = Enumerable.Range(0, Dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var build = index.BeginAnn();
        using var ann = AnnIndex.Build(index, build.Rows);
        Assert.Null(index.AttachAnn(ann, build));

        // 600 rows past the index, five of them close to the session: more than the 100 candidates asked for.
        var added = Enumerable.Range(0, 600).Select(i => i % 120 == 0
            ? session.Select(v => v * 3).ToArray()
            : Enumerable.Range(0, Dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToList();
        index.Set([.. Enumerable.Range(0, 600).Select(i => $"added-{i}")], [.. added.SelectMany(v => v)]);

        var candidates = index.Ann!.Candidates(index, session, 100, index.Count);
        var nearestAdded = Enumerable.Range(build.Rows, 600).OrderByDescending(r => index.ScoreRow(session, r)).Take(100).ToHashSet();
        Assert.Equal(nearestAdded, candidates.Where(r => r >= build.Rows).ToHashSet());

        var ranked = Rank(index, statistics, session, ["i3", "i17", "i42"], 100);
        var full = RankWithout(index, statistics, session, ["i3", "i17", "i42"]);
        Assert.Equal(full.Take(5).Select(c => c.ItemId), ranked.Take(5).Select(c => c.ItemId));
        Assert.All(Enumerable.Range(0, 5).Select(i => $"added-{i * 120}"), id => Assert.Contains(id, ranked.Take(10).Select(c => c.ItemId)));
    }

    [Fact(Timeout = 60_000)]
    public void The_approximate_retrieval_finds_most_of_the_exact_top_100()
    {
        var (index, statistics, random) = Catalogue(20_000, cosine: true);
        var build = index.BeginAnn();
        using var ann = AnnIndex.Build(index, build.Rows);
        var scores = new float[index.Count];
        double recall = 0;
        const int Queries = 50;
        for (var q = 0; q < Queries; q++)
        {
            var session = Enumerable.Range(0, Dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
            index.Score(session, scores);
            var exact = TopK.Select(scores, 100).Select(r => r.Item).ToHashSet();
            recall += ann.Search(session, 100).Count(exact.Contains) / 100.0;
        }

        Assert.True(recall / Queries >= 0.9, $"recall@100 {recall / Queries:0.000}");

        // The check the replica runs before an index serves agrees.
        Assert.InRange(ann.MeasureRecall(index), 0.9, 1.0);
    }

    [Fact(Timeout = 60_000)]
    public void Changed_rows_are_recorded_only_while_an_approximate_index_is_built_or_attached()
    {
        var (index, _, _) = Catalogue(200, cosine: false);
        var vector = new float[Dim];

        // No index: changes are not kept (a catalogue updated for months would otherwise grow the list forever).
        index.Set(["i1", "i2"], [.. vector, .. vector]);
        var build = index.BeginAnn();
        using var ann = AnnIndex.Build(index, build.Rows);
        index.Set(["i3"], vector);
        index.AttachAnn(ann, build);
        Assert.Equal([3], index.Ann!.Changed);

        index.Set(["i4"], vector);
        Assert.Equal([3, 4], index.Ann!.Changed);

        Assert.Same(ann, index.DetachAnn());
        index.Set(["i5"], vector);
        var next = index.BeginAnn();
        Assert.Equal(0, next.ChangesSeen);
    }

    /// <summary>The full scan over the same index (its approximate index set aside for the call).</summary>
    private static List<Candidate> RankWithout(ItemVectorIndex index, InteractionStatistics statistics, float[] session, string[] items) =>
        WithoutAnn(index, () => Rank(index, statistics, session, items, 400));

    [Fact(Timeout = 60_000)]
    public void A_round_from_the_approximate_index_picks_what_the_full_scan_picks_without_earlier_rounds_or_exclusions()
    {
        var (index, _, _) = Catalogue(3_000, cosine: false);
        var build = index.BeginAnn();
        Assert.Null(index.AttachAnn(AnnIndex.Build(index, build.Rows), build));
        var query = index.Vector(5).ToArray();

        // Added after the build, where the query looks: only the exact scoring of new rows can find it.
        index.Set(["late"], [.. query.Select(x => x * 3)]);
        Assert.True(index.TryGetRow("late", out var late));

        // Round 1 took the 20 nearest rows; "i17"-like exclusions (items the session saw) are skipped too.
        var scores = new float[index.Count];
        index.Score(query, scores);
        var taken = TopK.Select(scores, 21).Select(e => e.Item).Where(row => row != late).Take(20).ToHashSet();
        var excluded = TopK.Select(scores, 40).Select(e => index.IdOf(e.Item)).Where(id => id != "late" && !taken.Contains(int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture))).Take(3).ToHashSet();
        Assert.Equal(3, excluded.Count);

        var picked = MultiRoundRetrieval.PickFromAnn(index, index.Ann!, query, 20, taken, excluded.Contains);
        Assert.NotNull(picked);
        Assert.Equal(20, picked.Count);
        Assert.Contains(late, picked);
        Assert.DoesNotContain(picked, taken.Contains);
        Assert.DoesNotContain(picked, row => excluded.Contains(index.IdOf(row)));

        foreach (var row in taken)
        {
            scores[row] = float.NegativeInfinity;
        }

        var exact = TopK.Select(scores, 40).Select(e => e.Item).Where(row => !excluded.Contains(index.IdOf(row))).Take(20).ToHashSet();
        Assert.True(picked.Count(exact.Contains) >= 18, $"only {picked.Count(exact.Contains)} of the exact 20");
        Assert.Equal(picked.OrderByDescending(row => index.ScoreRow(query, row)), picked);
    }

    [Fact(Timeout = 60_000)]
    public void Rows_with_identical_vectors_are_indexed_once_and_found_with_their_copies()
    {
        // 6,000 items with 200 distinct vectors (items whose metadata are alike), the case that broke the graph.
        var random = new Random(3);
        var distinct = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, Dim).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray()).ToArray();
        var index = new ItemVectorIndex("v", Dim);
        index.Set([.. Enumerable.Range(0, 6_000).Select(i => $"i{i}")], [.. Enumerable.Range(0, 6_000).SelectMany(i => distinct[i % 200])]);
        using var ann = AnnIndex.Build(index, index.Count, collapseDuplicates: true);
        Assert.Equal((6_000, 200), (ann.Rows, ann.Distinct));
        Assert.True(ann.MeasureRecall(index) >= 0.97, $"recall@100 {ann.MeasureRecall(index):0.000}");

        // The best vector's 30 rows first (tied), then the next vectors', up to the count asked for.
        var query = distinct[7];
        var scores = new float[index.Count];
        index.Score(query, scores);
        var found = ann.Search(query, 100);
        Assert.Equal(100, found.Length);
        Assert.Equal(100, found.Distinct().Count());
        var hundredth = TopK.Select(scores, 100)[^1].Score - 1e-5;
        Assert.All(found, row => Assert.True(scores[row] >= hundredth, $"row {row} scores {scores[row]}, the 100th {hundredth}"));
        Assert.Equal(30, found.Take(30).Count(row => row % 200 == 7));

        // What a snapshot stores brings the copies back.
        var representatives = ann.Representatives();
        Assert.Equal(200, representatives.Distinct().Count());
        Assert.All(Enumerable.Range(0, 6_000), row => Assert.Equal(row % 200, representatives[row] % 200));
    }
}
