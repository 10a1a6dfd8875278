namespace SessionRec.Training.Tests;

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
}
