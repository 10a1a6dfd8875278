namespace SessionRec.Training.Tests;

using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using SessionRec.TestSupport;
using SessionRec.Training.Evaluation;

public sealed class TrainerTests
{
    [Fact]
    public void A_few_epochs_lower_the_loss_and_beat_popularity_on_structured_data()
    {
        var split = SyntheticData.Split();
        var options = ExportParityTests.Tiny with { MaxEpochs = 12, Patience = 12, LearningRate = 3e-3 };
        var featurizer = ItemFeaturizer.Fit(split.Dataset.Items);
        var reports = new List<EpochReport>();
        var model = M2TRecTrainer.Train(split, featurizer, ItemFeatureTable.Build(featurizer, split.Dataset.Items), options, new SyncProgress<EpochReport>(reports.Add));
        Assert.Equal(12, reports.Count);
        Assert.True(reports[^1].Loss < reports[0].Loss * 0.95, $"loss {reports[0].Loss} → {reports[^1].Loss}");

        var transformer = TransformerCandidate.Scorer("m", model, split, Phase.Test);
        var pop = new Models.Baseline.PopularityScorer(split.FitSequences(Phase.Test), split.ItemCount);
        var modelHr = Evaluator.Ranks(transformer, split, Phase.Test).Average(r => RankingMetrics.Hit(r, 10));
        var popHr = Evaluator.Ranks(pop, split, Phase.Test).Average(r => RankingMetrics.Hit(r, 10));
        Assert.True(modelHr > popHr * 1.5, $"model HR@10 {modelHr:0.000}, pop {popHr:0.000}");
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
