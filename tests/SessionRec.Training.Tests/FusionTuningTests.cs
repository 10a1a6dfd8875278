namespace SessionRec.Training.Tests;

using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training.Evaluation;

public sealed class FusionTuningTests
{
    [Fact]
    public void A_slice_below_its_best_baseline_costs_more_than_its_weight()
    {
        double[] weights = [1, 0.5];

        // A is better on all users; B keeps the cold slice above its best baseline (0.30).
        double[] a = [0.42, 0.26];
        double[] b = [0.38, 0.31];

        double[] none = [0, 0];
        Assert.True(FusionTuning.FloorObjective(a, weights, none) > FusionTuning.FloorObjective(b, weights, none));
        Assert.Equal(0.42 + (0.5 * 0.26), FusionTuning.FloorObjective(a, weights, none), 9);

        double[] floors = [0.2, 0.3];
        Assert.Equal(0.42 + (0.5 * 0.26) - (FusionTuning.FloorPenalty * 0.04), FusionTuning.FloorObjective(a, weights, floors), 9);
        Assert.Equal(0.38 + (0.5 * 0.31), FusionTuning.FloorObjective(b, weights, floors), 9);
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

    private static int FusionTuningTrials => 1 + (FusionTuning.SearchRounds * ((2 * FusionTuning.Grid.Length) + FusionTuning.PopularityGrid.Length + FusionTuning.NewItemGrid.Length));

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, so its messages may come late).</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
