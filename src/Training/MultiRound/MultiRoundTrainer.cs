namespace SessionRec.Training.MultiRound;

using System.Diagnostics;
using SessionRec.Models.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>Ada-Retrieval's settings (methods.md §2): T rounds of k items, the loss decay, the fine-tuning budget.</summary>
public sealed record MultiRoundOptions
{
    public int Rounds { get; init; } = 5;

    public int PerRound { get; init; } = 20;

    /// <summary>Round t's loss weighs λ^(t−1).</summary>
    public double Decay { get; init; } = 0.3;

    /// <summary>Weight of the base model's every-position next-item loss kept during fine-tuning (0 = rounds only).</summary>
    public double BaseLossWeight { get; init; } = 1;

    public double LearningRate { get; init; } = 1e-3;

    public int BatchSize { get; init; } = 256;

    public double MaxMinutes { get; init; } = 6;

    public int MaxEpochs { get; init; } = 100;

    public int Patience { get; init; } = 3;

    /// <summary>Validation users sampled for early stopping on multi-round HR@50 (0 = all).</summary>
    public int ValidationUsers { get; init; } = 4000;

    public int Seed { get; init; } = 42;

    /// <summary>Zero-initialised gates on the adapters' residuals instead of the published LayerNorms (see <see cref="RoundAdapters"/>).</summary>
    public bool Gated { get; init; } = true;
}

/// <summary>
/// A fine-tuned base model with its round adapters. <see cref="Model"/> is a copy of the base, fine-tuned with the
/// adapters; its single-round output is round 1. <see cref="Epochs"/> starts with epoch 0 (before fine-tuning).
/// </summary>
public sealed record MultiRoundModel(TrainedModel Model, RoundAdapters Adapters, MultiRoundOptions Options, IReadOnlyList<EpochReport> Epochs, TimeSpan Elapsed)
{
    public double BestValidation => Epochs.Count == 0 ? 0 : Epochs.Max(e => e.ValidationMetric);
}

/// <summary>
/// Stage two of Ada-Retrieval: every parameter of a copy of the trained base, plus the adapters, fine-tuned on
/// the decayed multi-round loss. Each step takes one random prefix of each user's training sequence; round t
/// scores the whole catalogue with the history and earlier rounds' items masked, its loss is the full-catalogue
/// cross-entropy of the target (our recipe, in place of the paper's BCE over sampled negatives) weighted by
/// λ^(t−1) — dropped once an earlier round has retrieved the target — and its top k (no gradient through the
/// choice) feed the next round. The base's every-position loss is kept beside it so round 1 does not drift.
/// </summary>
public static class MultiRoundTrainer
{
    public const string ValidationMetric = "HR@50";

    private const float Masked = -1e9f;

    public static MultiRoundModel FineTune(
        TrainedModel baseModel,
        LeaveOneOutSplit split,
        M2TRecOptions baseOptions,
        MultiRoundOptions options,
        IProgress<EpochReport>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var (random, trainable, validation) = M2TRecTrainer.Prepare(split, baseOptions.Threads, options.Seed, options.ValidationUsers);
        var module = new M2TRecModule(baseModel.Module.Options, baseModel.Featurizer, baseModel.Module.ItemCount);
        module.load_state_dict(baseModel.Module.state_dict());
        var adapters = new RoundAdapters(baseOptions.Dim, options.PerRound, baseOptions.Dropout, options.Gated);
        using var items = new ItemTensors(baseModel.Table);
        using var optimizer = optim.AdamW(module.parameters().Concat(adapters.parameters()), options.LearningRate, weight_decay: baseOptions.WeightDecay);
        var labels = baseOptions.HasHeads ? M2TRecTrainer.CategoryLabels(baseModel.Table) : null;

        var watch = Stopwatch.StartNew();
        var budget = TimeSpan.FromMinutes(options.MaxMinutes);
        var epochs = new List<EpochReport>();
        // Epoch 0: the base model with untrained adapters (round 1 is the base model exactly; gated rounds continue its
        // ranking). It is a candidate like any epoch: fine-tuning that never beats it on validation leaves it as it was.
        var bestMetric = Validate(module, adapters, items, split, validation, options);
        var bestModule = Snapshot(module);
        var bestAdapters = Snapshot(adapters);
        var initial = new EpochReport(0, double.NaN, bestMetric, bestMetric, watch.Elapsed, budget, true);
        epochs.Add(initial);
        progress?.Report(initial);
        var sinceBest = 0;
        for (var epoch = 1; epoch <= options.MaxEpochs && watch.Elapsed < budget && sinceBest < options.Patience; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            module.train();
            adapters.train();
            double lossSum = 0;
            var batches = 0;
            var order = trainable.OrderBy(_ => random.Next()).ToArray();
            for (var start = 0; start < order.Length && watch.Elapsed < budget; start += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var batch = order.AsSpan(start, Math.Min(options.BatchSize, order.Length - start)).ToArray();
                var histories = new int[batch.Length][];
                var targets = new long[batch.Length];
                for (var b = 0; b < batch.Length; b++)
                {
                    var s = split.Train[batch[b]];
                    var cut = random.Next(1, s.Length);
                    histories[b] = s[..cut];
                    targets[b] = s[cut];
                }

                var loss = RoundsLoss(module, adapters, items, histories, targets, options);
                if (options.BaseLossWeight > 0)
                {
                    loss += options.BaseLossWeight * M2TRecTrainer.BatchLoss(module, items, split, batch, labels, baseOptions);
                }

                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
            }

            var metric = Validate(module, adapters, items, split, validation, options);
            var improved = metric > bestMetric;
            if (improved)
            {
                bestMetric = metric;
                sinceBest = 0;
                Dispose(bestModule);
                Dispose(bestAdapters);
                bestModule = Snapshot(module);
                bestAdapters = Snapshot(adapters);
            }
            else
            {
                sinceBest++;
            }

            var report = EpochReport.After(epoch, options.MaxEpochs, lossSum / Math.Max(1, batches), metric, bestMetric, improved, watch.Elapsed, budget);
            epochs.Add(report);
            progress?.Report(report);
        }

        module.load_state_dict(bestModule);
        adapters.load_state_dict(bestAdapters);

        Dispose(bestModule);
        Dispose(bestAdapters);
        module.eval();
        adapters.eval();
        var tuned = baseModel with { Module = module, Elapsed = baseModel.Elapsed + watch.Elapsed };
        return new MultiRoundModel(tuned, adapters, options, epochs, watch.Elapsed);
    }

    /// <summary>
    /// The retrieved lists: for each history, round 1's k items, then round 2's, … (score order within a round),
    /// the history and earlier rounds masked. <paramref name="rounds"/> defaults to the trained number.
    /// </summary>
    public static int[][] Retrieve(MultiRoundModel model, IReadOnlyList<int[]> histories, int? rounds = null, int batchSize = 256)
    {
        using var _ = no_grad();
        using var items = new ItemTensors(model.Model.Table);
        using var matrix = model.Model.Module.EncodeItems(items).detach();
        return Retrieve(model.Model.Module, model.Adapters, matrix, histories, rounds ?? model.Options.Rounds, batchSize);
    }

    private static int[][] Retrieve(M2TRecModule module, RoundAdapters adapters, Tensor matrix, IReadOnlyList<int[]> histories, int rounds, int batchSize)
    {
        var result = new int[histories.Count][];
        for (var start = 0; start < histories.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = Enumerable.Range(start, Math.Min(batchSize, histories.Count - start)).Select(i => histories[i]).ToArray();
            var (inputs, last) = M2TRecTrainer.SessionInputs(module, matrix, batch);
            var exclude = Exclusions(batch, module.ItemCount, null);
            var picked = Rounds(module, adapters, matrix, inputs, last, exclude, rounds).Picked;
            var all = cat(picked, 1).contiguous().data<long>().ToArray();
            var width = rounds * adapters.PerRound;
            for (var b = 0; b < batch.Length; b++)
            {
                result[start + b] = [.. all.AsSpan(b * width, width).ToArray().Select(i => (int)i)];
            }
        }

        return result;
    }

    /// <summary>
    /// Runs the rounds: the scores each round ranked by (masked) and the k items it picked. Round 1 is the base
    /// model; later rounds adapt the session's items to what earlier rounds retrieved and the user vector to
    /// the earlier user vectors.
    /// </summary>
    internal static (List<Tensor> Scores, List<Tensor> Picked) Rounds(M2TRecModule module, RoundAdapters adapters, Tensor matrix, Tensor inputs, Tensor last, Tensor exclude, int rounds)
    {
        var scoring = module.ScoringItems(matrix).t();
        var batch = inputs.shape[0];
        var k = adapters.PerRound;
        var mask = exclude;
        var scores = new List<Tensor>();
        var picked = new List<Tensor>();
        var retrieved = new List<Tensor>();
        Tensor? user = null;
        Tensor? state = null;
        for (var t = 0; t < rounds; t++)
        {
            Tensor u;
            if (user is null)
            {
                u = M2TRecTrainer.Last(module.EncodeSessions(inputs), last);
            }
            else
            {
                state = adapters.Step(user, state ?? zeros_like(user));
                var memory = adapters.AdaptItems(stack(retrieved, 1));
                var encoded = M2TRecTrainer.Last(module.EncodeSessions(adapters.AdaptSequence(inputs, memory)), last);
                u = adapters.AdaptUser(encoded, state);
            }

            user = u;
            var s = module.ScoringSession(u).matmul(scoring) + mask;
            var top = s.detach().topk(k, 1).indexes;
            mask = mask.scatter(1, top, full(top.shape, Masked, device: top.device));
            scores.Add(s);
            picked.Add(top);
            retrieved.Add(matrix.index_select(0, top.flatten()).view(batch, k, -1));
        }

        return (scores, picked);
    }

    private static Tensor RoundsLoss(M2TRecModule module, RoundAdapters adapters, ItemTensors items, int[][] histories, long[] targets, MultiRoundOptions options)
    {
        var matrix = module.EncodeItems(items);
        var (inputs, last) = M2TRecTrainer.SessionInputs(module, matrix, histories);
        var exclude = Exclusions(histories, module.ItemCount, targets);
        var (scores, picked) = Rounds(module, adapters, matrix, inputs, last, exclude, options.Rounds);
        var y = tensor(targets);
        var alive = ones(targets.Length);
        Tensor? total = null;
        for (var t = 0; t < scores.Count; t++)
        {
            var ce = nn.functional.cross_entropy(scores[t], y, reduction: nn.Reduction.None);
            var term = (ce * alive).sum() * Math.Pow(options.Decay, t);
            total = total is null ? term : total + term;
            // A target found in this round is masked from the next: its later losses are dropped.
            alive = alive * picked[t].eq(y.view(-1, 1)).any(1).logical_not().to_type(ScalarType.Float32);
        }

        return total! / targets.Length;
    }

    /// <summary>HR@50 of the retrieved lists on the validation targets (history = the training part).</summary>
    private static double Validate(M2TRecModule module, RoundAdapters adapters, ItemTensors items, LeaveOneOutSplit split, int[] users, MultiRoundOptions options)
    {
        using var _ = no_grad();
        module.eval();
        adapters.eval();
        using var matrix = module.EncodeItems(items).detach();
        var lists = Retrieve(module, adapters, matrix, [.. users.Select(u => split.Train[u])], options.Rounds, 512);
        var hits = 0;
        for (var i = 0; i < users.Length; i++)
        {
            var index = Array.IndexOf(lists[i], split.Valid[users[i]]);
            hits += index is >= 0 and < 50 ? 1 : 0;
        }

        return (double)hits / users.Length;
    }

    /// <summary>An additive mask [B, N]: the history's items masked; a training target stays scoreable even if seen before.</summary>
    private static Tensor Exclusions(IReadOnlyList<int[]> histories, int items, long[]? targets)
    {
        var mask = new float[histories.Count * items];
        for (var b = 0; b < histories.Count; b++)
        {
            foreach (var i in histories[b])
            {
                mask[((long)b * items) + i] = Masked;
            }

            if (targets is not null)
            {
                mask[((long)b * items) + targets[b]] = 0;
            }
        }

        return tensor(mask, [histories.Count, items]);
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());

    private static void Dispose(Dictionary<string, Tensor>? tensors)
    {
        foreach (var t in tensors?.Values ?? Enumerable.Empty<Tensor>())
        {
            t.Dispose();
        }
    }
}
