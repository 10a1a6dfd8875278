namespace SessionRec.Training;

using System.Globalization;
using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;
using SessionRec.Training.Evaluation;
using SessionRec.Training.Export;
using SessionRec.Training.MultiRound;

/// <summary>
/// `sessionrec train`: the production model from a data set. Trains the metadata transformer (with the per-item
/// residual unless disabled) on the leave-one-out training parts with early stopping on validation, tunes the
/// ranking stage's fusion weights on validation, measures both on the test targets, and writes a model folder.
/// <see cref="M2TRecOptions.MaxMinutes"/> bounds the whole command: training gets <see cref="TrainingShare"/> of it
/// (less with multi-round fine-tuning, which gets <see cref="FineTuneShare"/>), the fusion search what is left less
/// <see cref="EvaluationShare"/>, kept for the test measurement that goes into the manifest.
/// </summary>
public static class ModelTraining
{
    public const double TrainingShare = 0.6;
    public const double FineTuneShare = 0.15;
    public const double EvaluationShare = 0.1;

    /// <summary>Fewest test users the manifest's metrics are measured on when the budget is short.</summary>
    public const int MinTestUsers = 2_000;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// The test users the measurement can afford in what is left of the budget: each scorer is timed on a small
    /// probe, and when all users would not fit, a fixed sample of them (at least <see cref="MinTestUsers"/>) is
    /// measured instead; the manifest's <c>test_users</c> says how many.
    /// </summary>
    private static IReadOnlyList<int> AffordableTestUsers(
        IReadOnlyList<(string Name, ISequenceScorer Scorer)> scorers, LeaveOneOutSplit split, TimeSpan left, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var ordered = Enumerable.Range(0, split.UserCount).OrderBy(u => (u * 2654435761u) % 1000003).ToArray();
        var probe = ordered.Take(Math.Min(ordered.Length, 300)).ToArray();
        var timer = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (_, scorer) in scorers)
        {
            Evaluator.Ranks(scorer, split, Phase.Test, probe, cancellationToken: cancellationToken);
        }

        var perUser = timer.Elapsed.TotalSeconds / Math.Max(1, probe.Length);
        var need = perUser * ordered.Length;
        if (need <= left.TotalSeconds || ordered.Length <= MinTestUsers)
        {
            return Enumerable.Range(0, split.UserCount).ToArray();
        }

        var count = Math.Max(MinTestUsers, (int)(ordered.Length * Math.Max(0, left.TotalSeconds) / need));
        progress?.Report($"measuring all {ordered.Length:N0} test targets would take {TimeSpan.FromSeconds(need):mm\\:ss}, {Max(left, TimeSpan.Zero):mm\\:ss} are left: measuring a fixed sample of {count:N0}");
        return [.. ordered.Take(count).Order()];
    }

    /// <param name="multiRound">When set, the model is then fine-tuned with the round adapters (Ada-Retrieval), the
    /// fusion weights (with the multi-round term) are tuned for the fine-tuned model, and the folder gets a round encoder.</param>
    public static ModelManifest Run(Dataset dataset, M2TRecOptions options, string modelsFolder, string? version, IProgress<string>? progress, CancellationToken cancellationToken = default, MultiRoundOptions? multiRound = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var total = TimeSpan.FromMinutes(options.MaxMinutes);
        version ??= "m2trec-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        if (!ModelContract.IsValidVersion(version))
        {
            throw new ArgumentException($"Model version '{version}': use 1–128 letters, digits, '-', '_' or '.', not starting with '.'.");
        }

        var folder = Path.Combine(modelsFolder, version);
        if (Directory.Exists(folder))
        {
            throw new InvalidOperationException($"{folder} exists: model versions are immutable; pick another --version.");
        }

        var sequences = SequenceDataset.From(dataset);
        var split = LeaveOneOutSplit.Create(sequences);
        if (split.UserCount == 0)
        {
            throw new InvalidOperationException($"{dataset.Name}: no user has 3 or more distinct items; nothing to train on.");
        }

        var featurizer = ItemFeaturizer.Fit(sequences.Items);
        var table = ItemFeatureTable.Build(featurizer, sequences.Items);
        var coverage = FeatureCoverage.Measure(featurizer, sequences.Items);
        foreach (var line in coverage.Lines())
        {
            progress?.Report(line);
        }

        var trainingShare = multiRound is null ? TrainingShare : TrainingShare - FineTuneShare;
        var trainOptions = options with { MaxMinutes = Math.Max(0.05, (total * trainingShare - watch.Elapsed).TotalMinutes) };
        progress?.Report($"training on {split.UserCount:N0} sequences over {split.ItemCount:N0} items ({featurizer}); budget {trainOptions.MaxMinutes:0.#} of {options.MaxMinutes:0.#} min");
        var model = M2TRecTrainer.Train(split, featurizer, table, trainOptions, progress is null ? null : new Progress<EpochReport>(e => progress.Report(
            $"epoch {e.Epoch}: loss {e.Loss:0.000}, validation {M2TRecTrainer.ValidationMetric} {e.ValidationMetric:0.0000}{(e.Improved ? " (best)" : "")}, {e.Elapsed:mm\\:ss} elapsed, ≤ {e.Remaining:mm\\:ss} left")), cancellationToken, coverage);

        MultiRoundModel? rounds = null;
        if (multiRound is not null)
        {
            multiRound = multiRound with { MaxMinutes = Math.Min(multiRound.MaxMinutes, Math.Max(0.05, (total * TrainingShare - watch.Elapsed).TotalMinutes)) };
            progress?.Report($"fine-tuning for multi-round retrieval: {multiRound.Rounds} rounds × {multiRound.PerRound} items, budget {multiRound.MaxMinutes:0.#} min");
            rounds = MultiRoundTrainer.FineTune(model, split, trainOptions, multiRound, progress is null ? null : new Progress<EpochReport>(e => progress.Report(
                $"fine-tune epoch {e.Epoch}: loss {e.Loss:0.000}, validation multi-round {MultiRoundTrainer.ValidationMetric} {e.ValidationMetric:0.0000}{(e.Improved ? " (best)" : "")}, {e.Elapsed:mm\\:ss} elapsed, ≤ {e.Remaining:mm\\:ss} left")), cancellationToken);
            model = rounds.Model;
        }

        var fusion = FusionTuning.Tune(model, split, progress, budget: Max(total * (1 - EvaluationShare) - watch.Elapsed, total * EvaluationShare));
        var scorers = new List<(string, ISequenceScorer)>
        {
            ("model", TransformerCandidate.Scorer("model", model, split, Phase.Test)),
            ("ranker", FusionTuning.Ranker("ranker", model, split, Phase.Test, fusion)),
        };
        if (rounds is not null)
        {
            fusion = fusion with { MultiRound = MultiRoundRankerCandidate.TuneMembership(rounds, fusion, split, progress) };
            var histories = Enumerable.Range(0, split.UserCount).Select(u => split.History(u, Phase.Test)).ToArray();
            scorers.Add(("model_multiround", new RetrievedListScorer("multiround", MultiRoundTrainer.Retrieve(rounds, histories))));
            scorers.Add(("ranker_multiround", MultiRoundRankerCandidate.Scorer("ranker+multiround", rounds, split, Phase.Test, fusion, fusion.MultiRound)));
        }

        var metrics = new Dictionary<string, double>();
        var testUsers = AffordableTestUsers(scorers, split, total - watch.Elapsed, progress, cancellationToken);
        metrics["test_users"] = testUsers.Count;
        foreach (var (name, scorer) in scorers)
        {
            progress?.Report($"measuring '{name}' on {testUsers.Count:N0} of {split.UserCount:N0} test targets ({watch.Elapsed.TotalMinutes:0.0} of {total.TotalMinutes:0.#} min)");
            var ranks = Evaluator.Ranks(scorer, split, Phase.Test, testUsers, cancellationToken: cancellationToken);
            foreach (var k in new[] { 20, 50 })
            {
                metrics[$"test_{name}_HR@{k}"] = Math.Round(ranks.Average(r => RankingMetrics.Hit(r, k)), 4);
                metrics[$"test_{name}_NDCG@{k}"] = Math.Round(ranks.Average(r => RankingMetrics.Ndcg(r, k)), 4);
            }
        }

        var data = new TrainingData(dataset.Name, sequences.Fingerprint(), sequences.Sequences.Count, sequences.ItemCount, sequences.Sequences.Sum(s => (long)s.Length));
        var manifest = ModelFolderWriter.Write(folder, version, model, data, [.. sequences.Items.Select(i => i.Id)], fusion, metrics, rounds, coverage);
        progress?.Report($"{watch.Elapsed.TotalMinutes:0.0} min in all; wrote {folder}: test HR@20 {metrics["test_ranker_HR@20"]:0.0000} (ranker), {metrics["test_model_HR@20"]:0.0000} (model alone)"
            + (rounds is null ? "" : $"; HR@50 {metrics["test_ranker_multiround_HR@50"]:0.0000} (ranker+multiround), {metrics["test_model_multiround_HR@50"]:0.0000} (multi-round alone)"));
        return manifest;
    }
}
