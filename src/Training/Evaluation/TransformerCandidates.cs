namespace SessionRec.Training.Evaluation;

using SessionRec.Models.Baseline;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;
using SessionRec.Training.MultiRound;

/// <summary>
/// Trains each distinct (options, split) once, so the ranker and the model row it fuses share one training run.
/// </summary>
public sealed class TrainingCache
{
    private readonly Dictionary<(M2TRecOptions, LeaveOneOutSplit), TrainedModel> _models = [];
    private readonly Dictionary<(TrainedModel, LeaveOneOutSplit, bool), FusionWeights> _weights = [];

    /// <summary>The fusion weights tuned for <paramref name="model"/> on <paramref name="split"/>, tuned once per run (rows that rank differently share them).</summary>
    public FusionWeights Weights(TrainedModel model, LeaveOneOutSplit split, bool floors, IProgress<string>? progress)
    {
        if (!_weights.TryGetValue((model, split, floors), out var weights))
        {
            weights = FusionTuning.Tune(model, split, progress, floors: floors);
            _weights[(model, split, floors)] = weights;
        }

        return weights;
    }

    public TrainedModel Get(LeaveOneOutSplit split, M2TRecOptions options, IProgress<string>? progress, string name, CancellationToken cancellationToken)
    {
        if (_models.TryGetValue((options, split), out var model))
        {
            return model;
        }

        // Vocabularies from the catalogue the trainer sees: an unreleased item's unseen tokens are [UNK], as they are for
        // an item PUT after training.
        var featurizer = ItemFeaturizer.Fit(split.ReleasedItems);
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
/// <param name="floors">Tune under the baseline floors (the default); false gives the ablation without them.</param>
public sealed class RankerCandidate(string name, M2TRecOptions options, TrainingCache cache, bool floors = true) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var model = cache.Get(split, options, progress, name, cancellationToken);
        return FusionTuning.Ranker(name, model, split, phase, cache.Weights(model, split, floors, progress));
    }
}

/// <summary>Chooses the ranking stage's fusion weights on the validation targets.</summary>
public static class FusionTuning
{
    public static readonly float[] Grid = [0, 0.25f, 0.5f, 1, 2, 4, 8, 16, 32, 64, 128];

    public static readonly float[] PopularityGrid = [-4, -2, -1, -0.5f, -0.25f, 0, 0.25f, 0.5f, 1];

    public static readonly float[] NewItemGrid = [0, 0.5f, 1, 2, 3, 4, 6, 8, 12];

    /// <summary>The service counts item-kNN pairs within the last five session items it remembers; so does the ranker here.</summary>
    public const int ItemKnnWindow = 5;

    /// <summary>Share of the items the tuning pretends are new (their interactions removed from the fusion statistics).</summary>
    public const double PseudoNewShare = 0.05;

    /// <summary>How much a slice's shortfall below its best baseline costs, on top of the slice's own weight.</summary>
    public const double FloorPenalty = 2;

    /// <summary>Passes of the coordinate search over the four weights.</summary>
    public const int SearchRounds = 2;

    private static readonly string[] SliceNames = ["all", "cold", "new"];

    /// <summary>Fewest users a slice keeps when a budget samples it down.</summary>
    public const int MinSliceUsers = 200;

    public static FusedScorer Ranker(string name, TrainedModel model, LeaveOneOutSplit split, Phase phase, FusionWeights weights)
    {
        var sequences = split.FitSequences(phase);
        return new FusedScorer(name, TransformerCandidate.Scorer(name, model, split, phase), [.. Sources(sequences, split.ItemCount, split.Unreleased).Zip(Weights(weights))]);
    }

    /// <summary>
    /// The fusion's terms fitted on <paramref name="sequences"/>, in the order of <see cref="Weights"/>: co-occurrence,
    /// item-kNN, popularity, new item, session-kNN. <paramref name="newItems"/> are the items the split made new (unreleased, or
    /// pseudo-new in the tuning); no other item is new, whatever its interaction count.
    /// </summary>
    public static ISequenceScorer[] Sources(IReadOnlyList<int[]> sequences, int items, IReadOnlySet<int> newItems) =>
        [new LogCooccurrenceScorer(sequences, items), new ItemKnnScorer(sequences, items, window: ItemKnnWindow), new LogPopularityScorer(sequences, items, newItems), new NewItemScorer(newItems, items), new SessionKnnScorer(sequences)];

    public static float[] Weights(FusionWeights w) => [w.Cooccurrence, w.ItemKnn, w.Popularity, w.NewItem, w.SessionKnn];

    /// <summary>The order the coordinate search visits the weights in (indexes into <see cref="Weights"/>).</summary>
    private static readonly int[] SearchOrder = [0, 1, 4, 3, 2];

    /// <summary>The metrics a floor holds for, per slice: HR@20, NDCG@20, HR@50, NDCG@50 (the targets' columns).</summary>
    public static readonly (string Name, bool Ndcg, int K)[] FloorMetrics = [("HR@20", false, 20), ("NDCG@20", true, 20), ("HR@50", false, 50), ("NDCG@50", true, 50)];

    /// <summary>A slice's score, what the search maximises: NDCG@20 + HR@50 of its <see cref="FloorMetrics"/>.</summary>
    public static double SliceScore(IReadOnlyList<double> metrics) => metrics[1] + metrics[2];

    /// <summary>
    /// The tuning objective: the slices' scores, weighted, less <see cref="FloorPenalty"/> × every shortfall of a
    /// slice's metric below its floor (none above it): a ranker that beats the best baseline on NDCG@20 + HR@50 but
    /// loses HR@20 to it pays for that metric.
    /// </summary>
    public static double FloorObjective(IReadOnlyList<double[]> metrics, IReadOnlyList<double> weights, IReadOnlyList<double[]> floors) =>
        metrics.Select((m, k) => (weights[k] * SliceScore(m)) - (FloorPenalty * m.Select((v, j) => Math.Max(0, floors[k][j] - v)).Sum())).Sum();

    /// <summary>
    /// Coordinate search over the grids maximising, on validation, NDCG@20 + HR@50 over three slices — a fixed
    /// sample of users (weight 1), users whose target is cold (≤ 5 interactions, weight 0.5), and users whose target
    /// is one of 5% of the items made "new" for the tuning (weight 0.5) — in a catalogue where those 5% have had
    /// their interactions removed from the fusion statistics (an ID-free model scores an item from its metadata,
    /// so its scores stand in for a new item's). Without the cold and new slices the weights favoured popular items
    /// and sank every new one; without the pseudo-new catalogue for every slice, the new-item term was free and
    /// flooded everyone's lists with new items (docs/models.md). With <paramref name="floors"/>, each slice also has a
    /// floor per metric of <see cref="FloorMetrics"/> — the best baseline's value on it, in the same catalogue — and
    /// a shortfall below a floor costs <see cref="FloorPenalty"/> more: the production ranker should not lose a slice to a baseline it could use
    /// (with the fixed slice weights alone, a stronger model asked for less item-kNN and fell below item-kNN on cold targets).
    /// </summary>
    /// <param name="budget">When set (`sessionrec train`), the tuning's wall-clock budget: a first, small evaluation
    /// measures the cost per user, the slices are sampled down to what the search can afford, and the search keeps
    /// the best weights so far when the budget runs out. Unset (the evaluation harness), the full samples are used.</param>
    public static FusionWeights Tune(TrainedModel model, LeaveOneOutSplit split, IProgress<string>? progress, int tuningUsers = 4000, bool floors = true, TimeSpan? budget = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        static int[] Sample(IEnumerable<int> users, int count) => [.. users.OrderBy(u => (u * 2654435761u) % 1000003).Take(count)];

        var all = Enumerable.Range(0, split.UserCount).ToList();
        var users = Sample(all, tuningUsers);
        var sequences = split.FitSequences(Phase.Validation);
        var counts = split.ItemCounts(Phase.Validation);
        var cold = Sample(all.Where(u => counts[split.Target(u, Phase.Validation)] <= RecsEvaluation.ColdThreshold), tuningUsers / 2);
        var pseudoNew = Enumerable.Range(0, split.ItemCount).Where(i => (i * 2246822519u) % 1000 < PseudoNewShare * 1000).ToHashSet();
        var withoutNew = sequences.Select(s => s.Where(i => !pseudoNew.Contains(i)).ToArray()).ToList();
        var fresh = Sample(all.Where(u => pseudoNew.Contains(split.Target(u, Phase.Validation))), tuningUsers / 2);

        var baseScorer = TransformerCandidate.Scorer("model", model, split, Phase.Validation);
        var newSources = Sources(withoutNew, split.ItemCount, pseudoNew.Union(split.Unreleased).ToHashSet());
        var weights = new float[newSources.Length];
        double[] Metrics(ISequenceScorer scorer, IReadOnlyList<int> slice)
        {
            if (slice.Count == 0)
            {
                return new double[FloorMetrics.Length];
            }

            var ranks = Evaluator.Ranks(scorer, split, Phase.Validation, slice);
            return [.. FloorMetrics.Select(m => ranks.Average(r => m.Ndcg ? RankingMetrics.Ndcg(r, m.K) : RankingMetrics.Hit(r, m.K)))];
        }

        // Every slice is scored in the catalogue with the pseudo-new items, so lifting new items is paid for by the
        // users whose targets they push down. Most traffic is warm: the sample of all users counts as much as the
        // other two slices together.
        IReadOnlyList<int>[] slices = [users, cold, fresh];
        double[] sliceWeights = [1, 0.5, 0.5];
        var trials = 1 + (SearchRounds * (Grid.Length + Grid.Length + Grid.Length + PopularityGrid.Length + NewItemGrid.Length));
        if (budget is { } limit)
        {
            slices = Afford(slices, limit, trials + (floors ? FunctionCandidate.BaselineScorers.Count : 0), watch, (scorer, slice) => Metrics(scorer, slice), baseScorer, newSources, progress);
        }

        // Each slice's floor per metric: the best baseline on that metric (the baselines differ: item-kNN may lead
        // HR@50 where co-occurrence leads NDCG@20).
        var floor = slices.Select(_ => new double[FloorMetrics.Length]).ToArray();
        if (floors)
        {
            foreach (var (_, build) in FunctionCandidate.BaselineScorers)
            {
                var baseline = build(withoutNew, split.ItemCount);
                for (var k = 0; k < slices.Length; k++)
                {
                    var metrics = Metrics(baseline, slices[k]);
                    for (var j = 0; j < metrics.Length; j++)
                    {
                        floor[k][j] = Math.Max(floor[k][j], metrics[j]);
                    }
                }
            }
        }

        double[][] SliceMetrics(float[] w)
        {
            var fused = new FusedScorer("ranker", baseScorer, [.. newSources.Zip(w)]);
            return [.. slices.Select(slice => Metrics(fused, slice))];
        }

        double Objective(float[] w) => FloorObjective(SliceMetrics(w), sliceWeights, floor);

        var best = Objective(weights);
        var done = 1;
        var stopped = false;
        for (var round = 0; round < SearchRounds && !stopped; round++)
        {
            // The new-item term before popularity: it lifts new items without touching warm ones, so popularity
            // need not turn negative to make room for them.
            foreach (var s in SearchOrder)
            {
                foreach (var value in s switch { 2 => PopularityGrid, 3 => NewItemGrid, _ => Grid })
                {
                    if (budget is { } deadline && watch.Elapsed >= deadline)
                    {
                        stopped = true;
                        break;
                    }

                    var trial = (float[])weights.Clone();
                    trial[s] = value;
                    var objective = Objective(trial);
                    done++;
                    if (objective > best)
                    {
                        best = objective;
                        weights = trial;
                    }
                }

                progress?.Report($"fusion tuning: {done}/{trials} trials, objective {best:0.0000}, {watch.Elapsed:mm\\:ss} elapsed"
                    + (budget is { } b ? $", ≤ {TimeSpan.FromTicks(Math.Max(0, Math.Min((b - watch.Elapsed).Ticks, (watch.Elapsed / done * (trials - done)).Ticks))):mm\\:ss} left" : ""));
                if (stopped)
                {
                    break;
                }
            }
        }

        if (stopped)
        {
            progress?.Report($"fusion tuning stopped by the budget after {done}/{trials} trials; the best weights so far are kept");
        }

        var final = SliceMetrics(weights);
        var below = Enumerable.Range(0, slices.Length).SelectMany(k => FloorMetrics.Select((m, j) => (Slice: SliceNames[k], m.Name, Value: final[k][j], Floor: floor[k][j])))
            .Where(x => x.Value < x.Floor).Select(x => $"{x.Slice} {x.Name} {x.Value:0.0000} < {x.Floor:0.0000}").ToList();
        progress?.Report($"fusion weights: co-occurrence {weights[0]}, item-kNN {weights[1]}, session-kNN {weights[4]}, popularity {weights[2]}, new item {weights[3]} (validation NDCG@20 + HR@50 on all/cold/new {SliceScore(final[0]):0.0000}/{SliceScore(final[1]):0.0000}/{SliceScore(final[2]):0.0000}, best baselines {SliceScore(floor[0]):0.0000}/{SliceScore(floor[1]):0.0000}/{SliceScore(floor[2]):0.0000}; objective {best:0.0000}; {slices[0].Count}/{slices[1].Count}/{slices[2].Count} users)");
        if (floors)
        {
            progress?.Report(below.Count == 0
                ? "fusion: at or above the best baseline on every slice and metric on validation"
                : $"fusion: below the best baseline on validation in {string.Join("; ", below)}");
        }

        return new FusionWeights(weights[0], weights[1], weights[2], weights[3], SessionKnn: weights[4]);
    }

    /// <summary>
    /// The slices the search can afford: one evaluation of an eighth of them measures the cost per user, and each
    /// slice keeps the share of its users that <paramref name="evaluations"/> evaluations fit in what is left of
    /// the budget (at least <see cref="MinSliceUsers"/>; the sample stays fixed, so trials stay comparable).
    /// </summary>
    private static IReadOnlyList<int>[] Afford(
        IReadOnlyList<int>[] slices, TimeSpan budget, int evaluations, System.Diagnostics.Stopwatch watch,
        Func<ISequenceScorer, IReadOnlyList<int>, double[]> score, ISequenceScorer baseScorer, ISequenceScorer[] sources, IProgress<string>? progress)
    {
        var probe = slices.Select(slice => slice.Take(Math.Max(1, slice.Count / 8)).ToList()).ToArray();
        var started = watch.Elapsed;
        var fused = new FusedScorer("ranker", baseScorer, [.. sources.Zip(new float[sources.Length])]);
        foreach (var slice in probe)
        {
            score(fused, slice);
        }

        var perUser = (watch.Elapsed - started).TotalSeconds / Math.Max(1, probe.Sum(p => p.Count));
        var users = slices.Sum(s => s.Count);
        var left = Math.Max(0, (budget - watch.Elapsed).TotalSeconds);
        var share = Math.Min(1, left / Math.Max(1e-9, perUser * users * evaluations));
        progress?.Report($"fusion tuning: {perUser * 1000:0.00} ms per user and trial; {evaluations} trials over {users:N0} users need "
            + $"{TimeSpan.FromSeconds(perUser * users * evaluations):mm\\:ss}, {TimeSpan.FromSeconds(left):mm\\:ss} left: "
            + (share >= 1 ? "all users" : $"{share:P0} of each slice"));
        return share >= 1 ? slices : [.. slices.Select(slice => (IReadOnlyList<int>)slice.Take(Math.Min(slice.Count, Math.Max(MinSliceUsers, (int)(slice.Count * share)))).ToList())];
    }
}

/// <summary>Fine-tunes each distinct (base options, split) once with the round adapters.</summary>
public sealed class MultiRoundCache(TrainingCache cache, MultiRoundOptions options)
{
    private readonly Dictionary<(M2TRecOptions, LeaveOneOutSplit), MultiRoundModel> _models = [];

    public MultiRoundOptions Options => options;

    public MultiRoundModel Get(LeaveOneOutSplit split, M2TRecOptions baseOptions, IProgress<string>? progress, string name, CancellationToken cancellationToken)
    {
        if (_models.TryGetValue((baseOptions, split), out var model))
        {
            return model;
        }

        var trained = cache.Get(split, baseOptions, progress, name, cancellationToken);
        progress?.Report($"{name}: fine-tuning with {options.Rounds} rounds × {options.PerRound} items, budget {options.MaxMinutes} min");
        var epochs = progress is null ? null : new Progress<EpochReport>(e => progress.Report(
            $"{name} fine-tune epoch {e.Epoch}: loss {e.Loss:0.000}, validation multi-round {MultiRoundTrainer.ValidationMetric} {e.ValidationMetric:0.0000}{(e.Improved ? " *" : "")}, {e.Elapsed:mm\\:ss} elapsed, ≤ {e.Remaining:mm\\:ss} left"));
        model = MultiRoundTrainer.FineTune(trained, split, baseOptions, options, epochs, cancellationToken);
        _models[(baseOptions, split)] = model;
        return model;
    }
}

/// <summary>
/// Scores that reproduce an ordered list per user (round 1's items first): the item at position p scores
/// length − p; items off the list tie far below, so the harness ranks the list as retrieved.
/// </summary>
public sealed class RetrievedListScorer(string name, int[][] lists) : ISequenceScorer
{
    public string Name => name;

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        scores.Fill(-1e9f);
        var list = lists[user];
        for (var p = 0; p < list.Length; p++)
        {
            scores[list[p]] = list.Length - p;
        }
    }
}

/// <summary>The ranking stage's extra term for multi-round candidates: 1 − (r − 1)/T for an item found in round r, else 0.</summary>
public sealed class RoundMembershipScorer(int[][] lists, int perRound, int rounds) : ISequenceScorer
{
    public string Name => "multiround";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        var list = lists[user];
        for (var p = 0; p < list.Length; p++)
        {
            scores[list[p]] = 1f - ((float)(p / perRound) / rounds);
        }
    }
}

/// <summary>`metadata-transformer+multiround`: the fine-tuned model's multi-round lists (the trained number of rounds).</summary>
public sealed class MultiRoundCandidate(string name, M2TRecOptions options, MultiRoundCache cache) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var model = cache.Get(split, options, progress, name, cancellationToken);
        var histories = Enumerable.Range(0, split.UserCount).Select(u => split.History(u, phase)).ToArray();
        return new RetrievedListScorer(name, MultiRoundTrainer.Retrieve(model, histories));
    }
}

/// <summary>The fine-tuned model of the multi-round rows ranking the whole catalogue with its round-1 user vector.</summary>
public sealed class MultiRoundSinglePassCandidate(string name, M2TRecOptions options, MultiRoundCache cache) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken) =>
        TransformerCandidate.Scorer(name, cache.Get(split, options, progress, name, cancellationToken).Model, split, phase);
}

/// <summary>
/// `ranker+multiround`: the production ranking stage over the fine-tuned model (fusion weights tuned for it, as
/// `sessionrec train` does), plus a weighted term for the multi-round candidates (weight tuned on validation).
/// </summary>
public sealed class MultiRoundRankerCandidate(string name, M2TRecOptions options, MultiRoundCache cache) : IRecommenderCandidate
{
    public static readonly float[] MembershipGrid = [0, 0.25f, 0.5f, 1, 2, 4, 8];

    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var model = cache.Get(split, options, progress, name, cancellationToken);
        var weights = FusionTuning.Tune(model.Model, split, progress);
        var membership = TuneMembership(model, weights, split, progress);
        return Scorer(name, model, split, phase, weights, membership);
    }

    public static FusedScorer Scorer(string name, MultiRoundModel model, LeaveOneOutSplit split, Phase phase, FusionWeights weights, float membership)
    {
        var histories = Enumerable.Range(0, split.UserCount).Select(u => split.History(u, phase)).ToArray();
        return Scorer(name, FusionTuning.Ranker(name, model.Model, split, phase, weights), MultiRoundTrainer.Retrieve(model, histories), model.Options, membership);
    }

    private static FusedScorer Scorer(string name, ISequenceScorer ranker, int[][] lists, MultiRoundOptions options, float membership) =>
        new(name, ranker, [(new RoundMembershipScorer(lists, options.PerRound, options.Rounds), membership)]);

    /// <summary>The membership weight maximising validation NDCG@20 + HR@50 on a fixed sample of users.</summary>
    public static float TuneMembership(MultiRoundModel model, FusionWeights weights, LeaveOneOutSplit split, IProgress<string>? progress, int tuningUsers = 4000)
    {
        var users = Enumerable.Range(0, split.UserCount).OrderBy(u => (u * 2654435761u) % 1000003).Take(tuningUsers).ToArray();
        var lists = new int[split.UserCount][];
        var retrieved = MultiRoundTrainer.Retrieve(model, [.. users.Select(u => split.History(u, Phase.Validation))]);
        for (var i = 0; i < users.Length; i++)
        {
            lists[users[i]] = retrieved[i];
        }

        var ranker = FusionTuning.Ranker("tuning", model.Model, split, Phase.Validation, weights);
        var best = (Weight: 0f, Objective: double.NegativeInfinity);
        foreach (var w in MembershipGrid)
        {
            var ranks = Evaluator.Ranks(Scorer("tuning", ranker, lists, model.Options, w), split, Phase.Validation, users);
            var objective = ranks.Average(r => RankingMetrics.Ndcg(r, 20) + RankingMetrics.Hit(r, 50));
            progress?.Report($"multi-round membership weight {w}: validation NDCG@20 + HR@50 {objective:0.0000}");
            if (objective > best.Objective)
            {
                best = (w, objective);
            }
        }

        progress?.Report($"multi-round membership weight {best.Weight} (validation NDCG@20 + HR@50 {best.Objective:0.0000})");
        return best.Weight;
    }
}

/// <summary>The transformer rows of `sessionrec eval recs`: the ID baseline, the metadata model, its ablations and the ranker.</summary>
public static class TransformerCandidates
{
    /// <param name="rankerOnHybrid">
    /// The ranker fuses the model `train` writes by default (true: item-id residuals for frequent items, kept only
    /// if they win on validation) or the pure metadata model (false, the ablation).
    /// </param>
    public static IReadOnlyList<IRecommenderCandidate> All(M2TRecOptions options, bool rankerOnHybrid = true, MultiRoundOptions? multiRound = null)
    {
        var cache = new TrainingCache();
        var rounds = new MultiRoundCache(cache, multiRound ?? new MultiRoundOptions());
        var withId = options with { IdResidual = true };
        var otherPooling = options.Pooling == "mean" ? "last" : "mean";
        return
        [
            new TransformerCandidate("id-transformer", options with { Metadata = false }, cache),
            new TransformerCandidate("metadata-transformer", options, cache),
            new TransformerCandidate("metadata-transformer-no-heads", options with { PrimaryWeight = 0, SubcategoryWeight = 0 }, cache),
            new TransformerCandidate("metadata-transformer-no-title", options with { UseTitle = false }, cache),
            new TransformerCandidate("metadata-transformer-no-brand", options with { UseBrand = false }, cache),
            // The pooling ablation names the choice the row makes, the other one of last-position and mean pooling.
            new TransformerCandidate($"metadata-transformer-{otherPooling}-pooling", options with { Pooling = otherPooling }, cache),
            // Hybrid item vectors as `train` makes them: the pure model first, then residuals for items with enough
            // training interactions, kept only if validation improves.
            new TransformerCandidate("hybrid-transformer", withId, cache),
            // Ablation: a residual for every item, however rare.
            new TransformerCandidate("metadata-transformer+id", withId with { ResidualMinCount = 0, ChooseOnValidation = false }, cache),
            new RankerCandidate("ranker", rankerOnHybrid ? withId : options, cache),
            // Ablation: the ranking stage tuned without the baseline floors (slice weights alone).
            new RankerCandidate("ranker-no-floors", rankerOnHybrid ? withId : options, cache, floors: false),
            // The ranker as the service runs it above Recommendations:AnnThreshold: it scores only candidates.
            new CandidateRankerCandidate("ranker-candidates", rankerOnHybrid ? withId : options, cache),
            new MultiRoundCandidate("metadata-transformer+multiround", options, rounds),
            // Ablation: the fine-tuned model as a single pass (full ranking with its round-1 user vector), so the gain
            // of the later rounds is visible apart from the extra training.
            new MultiRoundSinglePassCandidate("metadata-transformer+multiround-1pass", options, rounds),
            new MultiRoundRankerCandidate("ranker+multiround", rankerOnHybrid ? withId : options, rounds),
        ];
    }
}
