namespace SessionRec.Training.Tests;

using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training.Evaluation;

public sealed class FusionTuningTests
{
    [Fact]
    public void A_metric_below_its_best_baseline_costs_more_than_the_slice_score_it_buys()
    {
        double[] weights = [1, 0.5];

        // Metrics per slice: HR@20, NDCG@20, HR@50, NDCG@50 (score = NDCG@20 + HR@50). A has the higher scores but
        // loses HR@20 on all users to a baseline (floor 0.18); B keeps every metric at or above its floor.
        double[][] a = [[0.15, 0.09, 0.33, 0.10], [0.05, 0.03, 0.23, 0.05]];
        double[][] b = [[0.18, 0.08, 0.32, 0.10], [0.05, 0.03, 0.22, 0.05]];

        double[][] none = [new double[4], new double[4]];
        Assert.Equal(0.42 + (0.5 * 0.26), FusionTuning.FloorObjective(a, weights, none), 9);
        Assert.True(FusionTuning.FloorObjective(a, weights, none) > FusionTuning.FloorObjective(b, weights, none));

        double[][] floors = [[0.18, 0.07, 0.30, 0.09], [0.04, 0.02, 0.20, 0.04]];
        Assert.Equal(0.42 + (0.5 * 0.26) - (FusionTuning.FloorPenalty * 0.03), FusionTuning.FloorObjective(a, weights, floors), 9);
        Assert.Equal(0.40 + (0.5 * 0.25), FusionTuning.FloorObjective(b, weights, floors), 9);
        Assert.True(FusionTuning.FloorObjective(b, weights, floors) > FusionTuning.FloorObjective(a, weights, floors));
    }

    [Fact(Timeout = 300_000)]
    public void A_budget_samples_the_slices_down_and_stops_the_search_when_it_runs_out()
    {
        var model = ExportParityTests.TrainTiny(ExportParityTests.Tiny);
        var split = SyntheticData.Split();

        var unbounded = new List<string>();
        FusionTuning.Tune(model, split, new SyncProgress(unbounded.Add), tuningUsers: 300);
        Assert.Contains(unbounded, m => m.StartsWith($"fusion tuning: {FusionTuningTrials}/{FusionTuningTrials} trials", StringComparison.Ordinal));
        Assert.DoesNotContain(unbounded, m => m.Contains("stopped by the budget", StringComparison.Ordinal));

        // No time at all: the cost probe runs, each slice keeps its minimum, and no trial after the first is tried.
        var bounded = new List<string>();
        var weights = FusionTuning.Tune(model, split, new SyncProgress(bounded.Add), tuningUsers: 1000, budget: TimeSpan.Zero);
        Assert.Contains(bounded, m => m.Contains("ms per user and trial", StringComparison.Ordinal));
        Assert.Contains(bounded, m => m.Contains("stopped by the budget after 1/", StringComparison.Ordinal));
        Assert.Equal(new FusionWeights(0, 0, 0, 0), weights);
        var counts = System.Text.RegularExpressions.Regex.Match(bounded.Single(m => m.StartsWith("fusion weights:", StringComparison.Ordinal)), @"; (\d+)/(\d+)/(\d+) users\)$");
        Assert.True(counts.Success);
        Assert.Equal(FusionTuning.MinSliceUsers, int.Parse(counts.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(counts.Groups.Values.Skip(1), g => Assert.InRange(int.Parse(g.Value, System.Globalization.CultureInfo.InvariantCulture), 0, FusionTuning.MinSliceUsers));
    }

    [Fact(Timeout = 60_000)]
    public void An_item_that_occurs_only_as_a_test_target_gains_nothing_from_having_no_interactions()
    {
        // Item 6 occurs only as user 0's test target. Item 7 is its twin for every term but this fact: one fitted
        // interaction (user 3's validation item, fitted in the test phase), in a session that shares no item with
        // user 0's history, so neither co-occurrence nor item-kNN links it to user 0.
        int[][] sequences = [[0, 1, 2, 6], [0, 1, 3, 4], [1, 0, 4, 3], [5, 7, 3]];
        var items = Enumerable.Range(0, 8).Select(i => new ImportItem($"i{i}", $"item {i}", null, [], new Dictionary<string, string>(), null)).ToList();
        var split = LeaveOneOutSplit.Create(new SequenceDataset("leak", items, ["u0", "u1", "u2", "u3"], sequences));
        Assert.Equal(6, split.Target(0, Phase.Test));
        var counts = split.ItemCounts(Phase.Test);
        Assert.Equal(0, counts[6]);
        Assert.Equal(1, counts[7]);

        // Weights under which a zero-interaction item would stand out twice: a new-item lift and a negative popularity.
        var weights = FusionTuning.Weights(new FusionWeights(Cooccurrence: 1, ItemKnn: 1, Popularity: -1, NewItem: 4));
        float[] Scores(IReadOnlySet<int> newItems)
        {
            var fused = new FusedScorer("ranker", new NoModel(), [.. FusionTuning.Sources(split.FitSequences(Phase.Test), split.ItemCount, newItems).Zip(weights)]);
            var scores = new float[split.ItemCount];
            fused.Score(0, split.History(0, Phase.Test), scores);
            return scores;
        }

        var asSplit = Scores(split.Unreleased);
        Assert.Empty(split.Unreleased);
        // Item-kNN's popularity back-off (1e-3 × a count share) is the only term left that sees the count, and it can
        // only hold the item back.
        Assert.InRange(asSplit[6], asSplit[7] - 1e-3f, asSplit[7]);
        Assert.InRange(asSplit[6], -MathF.Log(2) - 1e-3f, -MathF.Log(2) + 1e-3f);

        // Newness comes from the split: the same item, made new by it, gets the term.
        var released = Scores(new HashSet<int> { 6 });
        Assert.Equal(4f, released[6]);
        Assert.True(released[6] > released[7]);
    }

    private static int FusionTuningTrials => 1 + (FusionTuning.SearchRounds * ((3 * FusionTuning.Grid.Length) + FusionTuning.PopularityGrid.Length + FusionTuning.NewItemGrid.Length));

    private sealed class NoModel : ISequenceScorer
    {
        public string Name => "none";

        public void Score(int user, ReadOnlySpan<int> history, Span<float> scores) => scores.Clear();
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, so its messages may come late).</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
