namespace SessionRec.Training.Evaluation;

using SessionRec.Models.Baseline;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;

/// <summary>
/// Trains each distinct (options, split) once, so the ranker and the model row it fuses share one training run.
/// </summary>
public sealed class TrainingCache
{
    private readonly Dictionary<(M2TRecOptions, LeaveOneOutSplit), TrainedModel> _models = [];

    public TrainedModel Get(LeaveOneOutSplit split, M2TRecOptions options, IProgress<string>? progress, string name, CancellationToken cancellationToken)
    {
        if (_models.TryGetValue((options, split), out var model))
        {
            return model;
        }

        var featurizer = ItemFeaturizer.Fit(split.Dataset.Items);
        var table = ItemFeatureTable.Build(featurizer, split.Dataset.Items);
        progress?.Report($"{name}: training on {split.UserCount:N0} sequences, {split.ItemCount:N0} items ({featurizer})");
        var epochs = progress is null ? null : new Progress<EpochReport>(e => progress.Report(
            $"{name} epoch {e.Epoch}: loss {e.Loss:0.000}, validation {M2TRecTrainer.ValidationMetric} {e.ValidationMetric:0.0000}{(e.Improved ? " *" : "")}, {e.Elapsed:mm\\:ss} elapsed, ≤ {e.Remaining:mm\\:ss} left"));
        model = M2TRecTrainer.Train(split, featurizer, table, options, epochs, cancellationToken);
        _models[(options, split)] = model;
        return model;
    }
}

/// <summary>A transformer row of the results table: trained on the training parts, early-stopped on validation.</summary>
public sealed class TransformerCandidate(string name, M2TRecOptions options, TrainingCache cache) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken) =>
        Scorer(name, cache.Get(split, options, progress, name, cancellationToken), split, phase);

    public static EmbeddingScorer Scorer(string name, TrainedModel model, LeaveOneOutSplit split, Phase phase)
    {
        var histories = Enumerable.Range(0, split.UserCount).Select(u => split.History(u, phase)).ToArray();
        return new EmbeddingScorer(name, M2TRecTrainer.ScoringMatrix(model), M2TRecTrainer.SessionVectors(model, histories), model.Module.Options.Dim);
    }
}

/// <summary>
/// The production ranking stage: the model's scores plus weighted co-occurrence (log counts from the last items)
/// and item-kNN similarity, the weights chosen on the validation targets by coordinate search.
/// </summary>
public sealed class RankerCandidate(string name, M2TRecOptions options, TrainingCache cache) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var model = cache.Get(split, options, progress, name, cancellationToken);
        var weights = FusionTuning.Tune(model, split, progress);
        return FusionTuning.Ranker(name, model, split, phase, weights);
    }
}

/// <summary>Chooses the ranking stage's fusion weights on the validation targets.</summary>
public static class FusionTuning
{
    public static readonly float[] Grid = [0, 0.25f, 0.5f, 1, 2, 4, 8, 16, 32, 64, 128];

    public static readonly float[] PopularityGrid = [-4, -2, -1, -0.5f, -0.25f, 0, 0.25f, 0.5f, 1];

    /// <summary>The service counts item-kNN pairs within the last five session items it remembers; so does the ranker here.</summary>
    public const int ItemKnnWindow = 5;

    public static FusedScorer Ranker(string name, TrainedModel model, LeaveOneOutSplit split, Phase phase, FusionWeights weights)
    {
        var sequences = split.FitSequences(phase);
        return new FusedScorer(name, TransformerCandidate.Scorer(name, model, split, phase),
        [
            (new LogCooccurrenceScorer(sequences, split.ItemCount), weights.Cooccurrence),
            (new ItemKnnScorer(sequences, split.ItemCount, window: ItemKnnWindow), weights.ItemKnn),
            (new LogPopularityScorer(sequences, split.ItemCount), weights.Popularity),
        ]);
    }

    /// <summary>Coordinate search over <see cref="Grid"/> maximising validation NDCG@20 + HR@50 on a fixed sample of users.</summary>
    public static FusionWeights Tune(TrainedModel model, LeaveOneOutSplit split, IProgress<string>? progress, int tuningUsers = 4000)
    {
        var users = Enumerable.Range(0, split.UserCount).OrderBy(u => (u * 2654435761u) % 1000003).Take(tuningUsers).ToArray();
        var sequences = split.FitSequences(Phase.Validation);
        var baseScorer = TransformerCandidate.Scorer("model", model, split, Phase.Validation);
        ISequenceScorer[] sources = [new LogCooccurrenceScorer(sequences, split.ItemCount), new ItemKnnScorer(sequences, split.ItemCount, window: ItemKnnWindow), new LogPopularityScorer(sequences, split.ItemCount)];
        var weights = new float[sources.Length];
        double Objective(float[] w)
        {
            var ranks = Evaluator.Ranks(new FusedScorer("ranker", baseScorer, [.. sources.Select((s, i) => (s, w[i]))]), split, Phase.Validation, users);
            return ranks.Average(r => RankingMetrics.Ndcg(r, 20) + RankingMetrics.Hit(r, 50));
        }

        var best = Objective(weights);
        for (var round = 0; round < 2; round++)
        {
            for (var s = 0; s < sources.Length; s++)
            {
                foreach (var value in s == 2 ? PopularityGrid : Grid)
                {
                    var trial = (float[])weights.Clone();
                    trial[s] = value;
                    var objective = Objective(trial);
                    if (objective > best)
                    {
                        best = objective;
                        weights = trial;
                    }
                }
            }
        }

        progress?.Report($"fusion weights: co-occurrence {weights[0]}, item-kNN {weights[1]}, popularity {weights[2]} (validation NDCG@20 + HR@50 = {best:0.0000})");
        return new FusionWeights(weights[0], weights[1], weights[2]);
    }
}

/// <summary>The transformer rows of `sessionrec eval recs`: the ID baseline, the metadata model, its ablations and the ranker.</summary>
public static class TransformerCandidates
{
    /// <param name="rankerOnIdResidual">
    /// The ranker fuses the model with item-id residuals (true) or the pure model (false, the default: with the
    /// co-occurrence sources beside it, residuals added nothing on warm items and sank every new item).
    /// </param>
    public static IReadOnlyList<IRecommenderCandidate> All(M2TRecOptions options, bool rankerOnIdResidual = false)
    {
        var cache = new TrainingCache();
        var withId = options with { IdResidual = true };
        return
        [
            new TransformerCandidate("id-transformer", options with { Metadata = false }, cache),
            new TransformerCandidate("metadata-transformer", options, cache),
            new TransformerCandidate("metadata-transformer-no-heads", options with { PrimaryWeight = 0, SubcategoryWeight = 0 }, cache),
            new TransformerCandidate("metadata-transformer-no-title", options with { UseTitle = false }, cache),
            new TransformerCandidate("metadata-transformer-no-brand", options with { UseBrand = false }, cache),
            new TransformerCandidate("metadata-transformer+id", withId, cache),
            new RankerCandidate("ranker", rankerOnIdResidual ? withId : options, cache),
        ];
    }
}
