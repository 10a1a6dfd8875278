namespace SessionRec.Training.Tests;

using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using SessionRec.TestSupport;
using SessionRec.Training.Evaluation;
using TorchSharp;

public sealed class TrainerTests
{
    [Fact(Timeout = 300_000)]
    public void Item_residuals_train_after_the_pure_model_and_stay_only_if_validation_improves()
    {
        var model = ExportParityTests.TrainTiny(ExportParityTests.Tiny with { IdResidual = true, MaxEpochs = 5, Patience = 10 });

        // round(5 × 0.6) = 3 pure epochs, then the residuals of frequent items from epoch 4.
        Assert.Equal(4, model.ResidualsFrom);
        Assert.Equal(5, model.Epochs.Count);
        var kept = model.Epochs.Last(e => e.Improved).Epoch;
        Assert.Equal(kept >= 4 ? "hybrid" : "metadata", model.ItemVectors);
        Assert.Equal(kept >= 4, model.Module.ResidualItems().Any(open => open));

        var pure = ExportParityTests.TrainTiny(ExportParityTests.Tiny with { MaxEpochs = 3 });
        Assert.Equal(("metadata", (int?)null), (pure.ItemVectors, pure.ResidualsFrom));
    }

    [Fact(Timeout = 300_000)]
    public void Where_the_metadata_cannot_separate_items_the_residuals_train_from_the_first_epoch()
    {
        var dataset = SyntheticData.Create();
        var bare = new Models.Data.SequenceDataset(dataset.Name, [.. dataset.Items.Select(i => i with { Title = "", Brand = null, Categories = [], Attributes = new Dictionary<string, string>(), Price = null })], dataset.Users, dataset.Sequences);
        var split = LeaveOneOutSplit.Create(bare);
        var featurizer = ItemFeaturizer.Fit(split.Dataset.Items);
        Assert.False(FeatureCoverage.Measure(featurizer, split.Dataset.Items).SeparatesItems);

        var model = M2TRecTrainer.Train(split, featurizer, ItemFeatureTable.Build(featurizer, split.Dataset.Items), ExportParityTests.Tiny with { IdResidual = true, MaxEpochs = 3 });

        Assert.Equal((1, "hybrid"), (model.ResidualsFrom, model.ItemVectors));
        Assert.Contains(true, model.Module.ResidualItems());
    }

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

    [Fact]
    public void An_unreleased_item_is_no_negative_in_the_training_loss()
    {
        var (split, _, heldOut) = SyntheticData.Split().HoldOutItems(0.1, seed: 3);
        Assert.Equal(heldOut, split.Unreleased);
        var featurizer = ItemFeaturizer.Fit(split.ReleasedItems);
        var table = ItemFeatureTable.Build(featurizer, split.Dataset.Items);
        var options = ExportParityTests.Tiny;
        var module = new M2TRecModule(options, featurizer, split.ItemCount);
        module.eval();
        int[] batch = [.. Enumerable.Range(0, split.UserCount).Where(u => split.Train[u].Length >= 2).Take(32)];
        var inBatch = batch.SelectMany(u => split.Train[u]).ToHashSet();
        float Loss()
        {
            using var scope = torch.NewDisposeScope();
            using var items = new ItemTensors(table);
            return M2TRecTrainer.BatchLoss(module, items, split, batch, null, options).item<float>();
        }

        // Gives item `to` the brand and title of item `from`, so its vector changes.
        void Copy(int from, int to)
        {
            table.Brand[to] = table.Brand[from];
            Array.Copy(table.Title, from * ItemFeaturizer.MaxTitleTokens, table.Title, to * ItemFeaturizer.MaxTitleTokens, ItemFeaturizer.MaxTitleTokens);
        }

        var before = Loss();
        var unreleased = heldOut.First();
        var released = Enumerable.Range(0, split.ItemCount).Where(i => !heldOut.Contains(i) && !inBatch.Contains(i)).ToArray();
        var donor = released.First(i => table.Brand[i] != table.Brand[unreleased]);
        Copy(donor, unreleased);
        Assert.Equal(before, Loss());

        Copy(released.First(i => table.Brand[i] != table.Brand[released[0]]), released[0]);
        Assert.NotEqual(before, Loss());
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
