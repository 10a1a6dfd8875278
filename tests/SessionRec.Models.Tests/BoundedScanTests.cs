namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;

/// <summary>
/// The int8 first pass over the catalogue (<see cref="ItemVectorIndex.ScoreBounded"/>): every exact score lies within
/// its bound, the bounds are narrow enough to rule rows out, and the ranking stage built on it gives the exact scan's
/// list, scores and reasons.
/// </summary>
public sealed class BoundedScanTests
{
    // Rows of very different lengths.
    private static ItemVectorIndex Index(int items, int dim, bool cosine, Random random) =>
        ClusteredVectors.Index(ClusteredVectors.Make(random, items, dim, centres: 30, spread: 0.5f, r => (float)Math.Exp((r.NextDouble() * 4) - 2)), dim, "i", cosine: cosine);

    private static float[] Query(int dim, Random random, float scale) =>
        [.. Enumerable.Range(0, dim).Select(_ => scale * ((float)random.NextDouble() - 0.5f))];

    [Theory(Timeout = 60_000)]
    [InlineData(64, false)]
    [InlineData(64, true)]
    [InlineData(24, false)] // not a multiple of the vector width: the portable loop
    [InlineData(16, true)]
    public void Every_exact_score_lies_within_its_bound_and_the_bounds_rule_rows_out(int dim, bool cosine)
    {
        var random = new Random(dim);
        var index = Index(3_000, dim, cosine, random);
        var exact = new float[index.Count];
        var approx = new float[index.Count];
        var bound = new float[index.Count];
        foreach (var scale in new[] { 1e-3f, 1f, 300f })
        {
            for (var q = 0; q < 10; q++)
            {
                var query = Query(dim, random, scale);
                index.Score(query, exact);
                Assert.True(index.ScoreBounded(query, approx, bound));
                for (var r = 0; r < exact.Length; r++)
                {
                    Assert.True(Math.Abs(exact[r] - approx[r]) <= bound[r], $"row {r}: exact {exact[r]}, approx {approx[r]} ± {bound[r]}");
                }

                // Useful: the typical bound is a small part of how far the scores spread.
                var spread = exact.Max() - exact.Min();
                Assert.True(bound.Order().ElementAt(bound.Length / 2) < 0.02 * spread, $"median bound {bound.Order().ElementAt(bound.Length / 2)} of a spread {spread}");
            }
        }
    }

    [Fact(Timeout = 10_000)]
    public void A_query_of_zeros_or_not_a_number_is_left_to_the_exact_scan()
    {
        var index = Index(100, 16, false, new Random(1));
        var approx = new float[100];
        var bound = new float[100];
        Assert.False(index.ScoreBounded(new float[16], approx, bound));
        var nan = new float[16];
        nan[3] = float.NaN;
        Assert.False(index.ScoreBounded(nan, approx, bound));
    }

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public void The_ranking_over_the_first_pass_equals_the_ranking_over_the_exact_scan(bool cosine)
    {
        const int Dim = 32;
        var random = new Random(11);
        var index = Index(4_000, Dim, cosine, random);
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        for (var s = 0; s < 400; s++)
        {
            var previous = new List<string>();
            for (var step = 0; step < 5; step++)
            {
                var item = $"i{random.Next(400)}";
                statistics.Observe(item, 1, at, previous);
                previous.Add(item);
            }
        }

        // Added after the statistics: new items, past the prior's rows.
        index.Set(["new-1", "new-2"], [.. Query(Dim, random, 1), .. Query(Dim, random, 1)]);

        // Every term: co-occurrence, item-kNN, a negative popularity (its sums can cancel), new items, multi-round.
        var weights = new FusionWeights(2f, 16f, -0.5f, 2f, MultiRound: 0.3f);
        var rounds = Enumerable.Range(0, 20).ToDictionary(i => i * 37, i => 1 + (i % 3));
        for (var q = 0; q < 25; q++)
        {
            var session = Query(Dim, random, q % 5 == 0 ? 50f : 1f);
            string[] items = [$"i{random.Next(400)}", $"i{random.Next(400)}", $"i{random.Next(4_000)}"];
            var query = new CandidateQuery(items, null, 20);
            var exactScores = new float[index.Count];
            index.Score(session, exactScores);

            var overExact = new List<Candidate>();
            new ModelRankerSource(index, session, statistics, weights, rounds: rounds, trainedRounds: 3, sessionScores: exactScores)
                .Collect(query, 70, overExact);
            var overFirstPass = new List<Candidate>();
            new ModelRankerSource(index, session, statistics, weights, rounds: rounds, trainedRounds: 3)
                .Collect(query, 70, overFirstPass);

            Assert.Equal(70, overExact.Count);
            Assert.Equal(overExact, overFirstPass); // item, score and reason, bit for bit
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_kth_highest_is_what_a_sort_gives_with_ties_infinities_and_not_a_number_among_the_values(int seed)
    {
        var random = new Random(seed);
        foreach (var length in new[] { 1, 2, 7, 100, 8_000 })
        {
            // Few distinct values (many ties), some infinite, some NaN (counted as −∞).
            var values = Enumerable.Range(0, length).Select(_ => random.Next(10) switch
            {
                0 => float.NaN,
                1 => float.NegativeInfinity,
                2 => float.PositiveInfinity,
                _ => random.Next(20) / 4f,
            }).ToArray();
            var sorted = values.Select(v => float.IsNaN(v) ? float.NegativeInfinity : v).OrderDescending().ToArray();
            foreach (var k in new[] { 1, 2, length / 2, length - 1, length }.Where(k => k >= 1 && k <= length).Distinct())
            {
                Assert.Equal(sorted[k - 1], BoundedTopK.KthHighest(values.ToArray(), k));
            }

            Assert.Equal(float.NegativeInfinity, BoundedTopK.KthHighest(values.ToArray(), length + 1));
        }
    }

    [Fact(Timeout = 30_000)]
    public void The_kth_highest_of_many_values_is_a_sorts_whether_the_sample_it_starts_from_judges_well_or_not()
    {
        var random = new Random(9);
        foreach (var length in new[] { 4_096, 16_800, 100_000 })
        {
            var values = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var sorted = values.OrderDescending().ToArray();
            foreach (var k in new[] { 1, 70, 400, length / 8 })
            {
                Assert.Equal(sorted[k - 1], BoundedTopK.KthHighest(values.ToArray(), k));
            }
        }

        // The sample (every 4th value here) holds the only high values: fewer than k reach its cut, and the full
        // selection must answer.
        var skewed = Enumerable.Range(0, 4_096).Select(i => i % 4 == 0 ? 10f + i : (float)random.NextDouble()).ToArray();
        var expected = skewed.OrderDescending().ToArray();
        Assert.Equal(expected[511], BoundedTopK.KthHighest(skewed.ToArray(), 512));
        Assert.Equal(expected[1_099], BoundedTopK.KthHighest(skewed.ToArray(), 1_100));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_highest_positions_of_many_scores_are_a_sorts_with_ties_not_a_number_and_samples_that_misjudge(int seed)
    {
        // What a sort gives: every score above the take-th (NaN counted as −∞), then ties with it in position order.
        static int[] Reference(float[] scores, int take)
        {
            var kth = scores.Select(v => float.IsNaN(v) ? float.NegativeInfinity : v).OrderDescending().ElementAt(take - 1);
            var above = Enumerable.Range(0, scores.Length).Where(i => scores[i] > kth);
            var ties = Enumerable.Range(0, scores.Length).Where(i => scores[i] == kth || (float.IsNaN(scores[i]) && float.IsNegativeInfinity(kth)));
            return [.. above.Concat(ties).Take(take)];
        }

        var random = new Random(seed);
        foreach (var length in new[] { 4_096, 16_800, 51_288 })
        {
            float[][] cases =
            [
                // Spread scores, as int8 scores of probed rows are.
                [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))],

                // Few distinct values (ties at the cut), some NaN and infinities.
                [.. Enumerable.Range(0, length).Select(_ => random.Next(12) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.NegativeInfinity, _ => random.Next(40) / 8f })],

                // The high scores only where the sample does not look (it reads every (length / 1,024)-th), and fewer
                // than the sample expects: the general path must answer.
                [.. Enumerable.Range(0, length).Select(i => i % (length / 1_024) == 1 ? 5f + (float)random.NextDouble() : (float)random.NextDouble())],

                // Every score equal.
                [.. Enumerable.Repeat(0.5f, length)],
            ];
            foreach (var scores in cases)
            {
                foreach (var take in new[] { 1, 70, 400, length / 8 })
                {
                    Assert.Equal(Reference(scores, take), BoundedTopK.HighestPositions(scores, take));
                }
            }
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(24)]
    public void The_approximate_scores_without_bounds_are_the_bounded_passs_own_floats(int dim)
    {
        // The inverted file's candidates rank rows by these alone: they must be the same floats as the bounded pass's.
        var random = new Random(dim);
        const int Rows = 1_003;
        var codes = new ItemCodes(dim, Rows);
        for (var row = 0; row < Rows; row++)
        {
            var vector = Enumerable.Range(0, dim).Select(_ => (float)(random.NextDouble() - 0.5) * (1 + (row % 7))).ToArray();
            codes.Set(row, vector, 1f + (row % 3));
        }

        for (var q = 0; q < 20; q++)
        {
            var query = codes.Encode([.. Enumerable.Range(0, dim).Select(_ => (float)(random.NextDouble() - 0.5))])!;
            var start = random.Next(0, 40);
            var (approx, bound, alone) = (new float[Rows - start], new float[Rows - start], new float[Rows - start]);
            codes.Score(query, start, approx, bound);
            codes.Approximate(query, start, alone);
            Assert.Equal(approx, alone);
        }
    }

    [Fact(Timeout = 10_000)]
    public void The_highest_positions_take_every_score_above_the_kth_before_any_tie_with_it()
    {
        // Ties with the k-th come first in position order: a scan taking ">= k-th" until full would keep them and
        // drop the 9 and the 8 at the end.
        float[] scores = [5, 5, 5, 5, 1, 9, 2, 8];
        Assert.Equal([0, 1, 5, 7], BoundedTopK.HighestPositions(scores, 4).Order());
        Assert.Equal([5], BoundedTopK.HighestPositions(scores, 1));
        Assert.Equal(8, BoundedTopK.HighestPositions(scores, 20).Length);
        Assert.Empty(BoundedTopK.HighestPositions(scores, 0));
    }

    [Theory(Timeout = 30_000)]
    [InlineData(1, 400)]
    [InlineData(2, 70)]
    [InlineData(3, 1)]
    public void The_bounded_selection_picks_the_exact_top_k_in_order_scoring_only_rows_that_may_reach_it(int seed, int k)
    {
        var random = new Random(seed);
        var exact = Enumerable.Range(0, 8_000).Select(_ => (float)random.NextDouble()).ToArray();
        exact[17] = exact[4_000] = exact[7_999] = exact.Max(); // ties at the top go to the lower entry
        exact[5] = float.NaN;
        var bounds = exact.Select(_ => 0.01f * (float)random.NextDouble()).ToArray();
        var approx = exact.Select((e, i) => e + (bounds[i] * (2 * (float)random.NextDouble() - 1))).ToArray();
        var counter = new CountingScores(exact);

        var picked = BoundedTopK.Select(approx, bounds, k, counter);

        var expected = TopK.Select(exact, k);
        Assert.Equal(expected.Select(e => e.Item), picked.Select(p => p.Entry));
        Assert.Equal(expected.Select(e => e.Score), picked.Select(p => p.Score));
        Assert.True(counter.Calls < 2 * k + 200, $"{counter.Calls} exact scores for the top {k} of 8,000");
    }

    private sealed class CountingScores(float[] exact) : BoundedTopK.IExactScores
    {
        public int Calls { get; private set; }

        public float Score(int entry)
        {
            Calls++;
            return exact[entry];
        }
    }
}
