namespace SessionRec.Training;

using System.Diagnostics;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>Progress of a training run, reported once per epoch.</summary>
public sealed record EpochReport(int Epoch, double Loss, double ValidationMetric, double BestMetric, TimeSpan Elapsed, TimeSpan? Remaining, bool Improved)
{
    /// <summary>The report after an epoch, with the time left estimated from the mean epoch so far and the budget.</summary>
    public static EpochReport After(int epoch, int maxEpochs, double loss, double metric, double best, bool improved, TimeSpan elapsed, TimeSpan budget)
    {
        var remaining = TimeSpan.FromTicks(Math.Min((budget - elapsed).Ticks, (elapsed / epoch).Ticks * (maxEpochs - epoch)));
        return new EpochReport(epoch, loss, metric, best, elapsed, remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining, improved);
    }
}

/// <summary>What training produced: the module in eval mode, the featurizer it was trained with, and its history.</summary>
public sealed record TrainedModel(M2TRecModule Module, ItemFeaturizer Featurizer, ItemFeatureTable Table, IReadOnlyList<EpochReport> Epochs, TimeSpan Elapsed)
{
    /// <summary>The epoch from which item residuals trained (null: none did).</summary>
    public int? ResidualsFrom { get; init; }

    /// <summary>What the kept (best) epoch's item vectors are: "metadata", "hybrid" (metadata plus residuals of frequent items) or "id".</summary>
    public string ItemVectors { get; init; } = "metadata";

    public double BestValidation => Epochs.Count == 0 ? 0 : Epochs.Max(e => e.ValidationMetric);
}

/// <summary>
/// The recipe that works on sparse catalogues: every position of every training sequence is a target, full
/// softmax cross-entropy over the whole catalogue (no sampled negatives), Adam, early stopping on validation
/// NDCG@20 over a fixed sample of users, and a wall-clock budget.
/// </summary>
public static class M2TRecTrainer
{
    public const string ValidationMetric = "NDCG@20";

    /// <summary>With residuals, the share of the epochs and of the budget the pure first stage may use.</summary>
    public const double PureShare = 0.6;

    public static TrainedModel Train(
        LeaveOneOutSplit split,
        ItemFeaturizer featurizer,
        ItemFeatureTable table,
        M2TRecOptions options,
        IProgress<EpochReport>? progress = null,
        CancellationToken cancellationToken = default,
        FeatureCoverage? coverage = null)
    {
        var (random, trainable, validation) = Prepare(split, options.Threads, options.Seed, options.ValidationUsers);
        var module = new M2TRecModule(options, featurizer, split.ItemCount, split.ItemCounts(Phase.Validation));
        using var items = new ItemTensors(table);
        using var optimizer = optim.AdamW(module.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var labels = options.HasHeads ? CategoryLabels(table) : null;

        var watch = Stopwatch.StartNew();
        var budget = TimeSpan.FromMinutes(options.MaxMinutes);
        var epochs = new List<EpochReport>();
        Dictionary<string, Tensor>? best = null;
        var bestMetric = double.NegativeInfinity;
        var bestEpoch = 0;
        var sinceBest = 0;

        // With residuals, two stages: the pure metadata model first, then from its best state the residuals of
        // frequent items too. Early stopping keeps the best epoch of both, so the residuals stay only if they
        // improve validation: on rich metadata the pure model may win, on poor metadata the hybrid one.
        int? residualsFrom = null;
        var joint = options is { Metadata: true, IdResidual: true }
            && (!options.ChooseOnValidation || !(coverage ?? FeatureCoverage.Measure(featurizer, split.Dataset.Items)).SeparatesItems);
        var staged = options is { Metadata: true, IdResidual: true } && !joint;
        if (joint)
        {
            module.OpenResidualGate();
            residualsFrom = 1;
        }

        var firstStageEpochs = staged ? Math.Max(1, (int)Math.Round(options.MaxEpochs * PureShare)) : options.MaxEpochs;
        var firstStageBudget = staged ? budget * PureShare : budget;
        for (var epoch = 1; epoch <= options.MaxEpochs && watch.Elapsed < budget; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (staged && residualsFrom is null && (sinceBest >= options.Patience || epoch > firstStageEpochs || watch.Elapsed >= firstStageBudget))
            {
                if (best is not null)
                {
                    module.load_state_dict(best);
                }

                module.OpenResidualGate();
                residualsFrom = epoch;
                sinceBest = 0;
            }
            else if (sinceBest >= options.Patience)
            {
                break;
            }

            module.train();
            double lossSum = 0;
            var batches = 0;
            foreach (var batch in Batches(split, trainable, options, random))
            {
                using var scope = NewDisposeScope();
                var loss = BatchLoss(module, items, split, batch, labels, options);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
                if (watch.Elapsed >= budget)
                {
                    break;
                }
            }

            var metric = Validate(module, items, split, validation);
            var improved = metric > bestMetric;
            if (improved)
            {
                bestMetric = metric;
                bestEpoch = epoch;
                sinceBest = 0;
                DisposeAll(best);
                best = module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
            }
            else
            {
                sinceBest++;
            }

            var report = EpochReport.After(epoch, options.MaxEpochs, lossSum / Math.Max(1, batches), metric, bestMetric, improved, watch.Elapsed, budget);
            epochs.Add(report);
            progress?.Report(report);
        }

        if (best is not null)
        {
            module.load_state_dict(best);
            DisposeAll(best);
        }

        module.eval();
        return new TrainedModel(module, featurizer, table, epochs, watch.Elapsed)
        {
            ResidualsFrom = residualsFrom,
            ItemVectors = !options.Metadata ? "id" : residualsFrom is { } from && bestEpoch >= from ? "hybrid" : "metadata",
        };
    }

    /// <summary>
    /// Threads and seeds for a training run, the users whose training part has a target (≥ 2 items), and a fixed
    /// random sample of validation users (0 = all).
    /// </summary>
    internal static (Random Random, int[] Trainable, int[] Validation) Prepare(LeaveOneOutSplit split, int threads, int seed, int validationUsers)
    {
        torch.set_num_threads(threads);
        torch.manual_seed(seed);
        var random = new Random(seed);
        var trainable = Enumerable.Range(0, split.UserCount).Where(u => split.Train[u].Length >= 2).ToArray();
        var validation = Enumerable.Range(0, split.UserCount).OrderBy(_ => random.Next()).Take(validationUsers > 0 ? validationUsers : int.MaxValue).ToArray();
        return (random, trainable, validation);
    }

    /// <summary>Item vectors as the ranking scores them [N, Dim] (unit rows for cosine scoring).</summary>
    public static float[] ScoringMatrix(TrainedModel model)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var items = new ItemTensors(model.Table);
        return model.Module.ScoringItems(model.Module.EncodeItems(items)).contiguous().data<float>().ToArray();
    }

    /// <summary>Item matrix [N, Dim] in eval mode, as float rows (the session encoder's input vectors).</summary>
    public static float[] ItemMatrix(TrainedModel model)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var items = new ItemTensors(model.Table);
        return model.Module.EncodeItems(items).contiguous().data<float>().ToArray();
    }

    /// <summary>Session vectors [histories, Dim] as scored (the encoder output at each history's last position).</summary>
    public static float[] SessionVectors(TrainedModel model, IReadOnlyList<int[]> histories, int batchSize = 512)
    {
        using var _ = no_grad();
        var module = model.Module;
        var dim = module.Options.Dim;
        var result = new float[histories.Count * dim];
        using var items = new ItemTensors(model.Table);
        using var matrix = module.EncodeItems(items).detach();
        for (var start = 0; start < histories.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, histories.Count - start);
            var vectors = module.ScoringSession(Encode(module, matrix, [.. Enumerable.Range(start, count).Select(i => histories[i])]));
            vectors.contiguous().data<float>().CopyTo(result, start * dim);
        }

        return result;
    }

    /// <summary>The last-position session vectors [B, Dim] of histories (each truncated to the last MaxLength items).</summary>
    internal static Tensor Encode(M2TRecModule module, Tensor itemMatrix, IReadOnlyList<int[]> histories)
    {
        var (inputs, last) = SessionInputs(module, itemMatrix, histories);
        return Last(module.EncodeSessions(inputs), last);
    }

    /// <summary>Session inputs [B, L, Dim] (right-padded with zeros) and each session's last position [B].</summary>
    internal static (Tensor Inputs, Tensor Last) SessionInputs(M2TRecModule module, Tensor itemMatrix, IReadOnlyList<int[]> histories)
    {
        var maxLength = module.Options.MaxLength;
        var length = Math.Max(1, histories.Max(h => Math.Min(h.Length, maxLength)));
        var n = module.ItemCount;
        var index = new long[histories.Count * length];
        var last = new long[histories.Count];
        for (var b = 0; b < histories.Count; b++)
        {
            var h = histories[b].AsSpan(Math.Max(0, histories[b].Length - maxLength));
            for (var p = 0; p < length; p++)
            {
                index[(b * length) + p] = p < h.Length ? h[p] : n;
            }

            last[b] = Math.Max(0, h.Length - 1);
        }

        var padded = cat([itemMatrix, zeros(1, itemMatrix.shape[1])], 0);
        return (padded.index_select(0, tensor(index)).view(histories.Count, length, -1), tensor(last));
    }

    /// <summary>The encoder output at each session's last position: outputs [B, L, Dim], last [B] → [B, Dim].</summary>
    internal static Tensor Last(Tensor outputs, Tensor last) =>
        outputs.gather(1, last.view(-1, 1, 1).expand(-1, 1, outputs.shape[2])).squeeze(1);

    internal static Tensor BatchLoss(M2TRecModule module, ItemTensors items, LeaveOneOutSplit split, ReadOnlySpan<int> batch, long[][]? labels, M2TRecOptions options)
    {
        var maxLength = options.MaxLength;
        var length = 1;
        foreach (var u in batch)
        {
            length = Math.Max(length, Math.Min(split.Train[u].Length - 1, maxLength));
        }

        var n = split.ItemCount;
        var inputs = new long[batch.Length * length];
        var targets = new long[batch.Length * length];
        Array.Fill(inputs, n);
        Array.Fill(targets, -1);
        for (var b = 0; b < batch.Length; b++)
        {
            var s = split.Train[batch[b]];
            var take = Math.Min(s.Length - 1, maxLength);
            var offset = s.Length - 1 - take;
            for (var p = 0; p < take; p++)
            {
                inputs[(b * length) + p] = s[offset + p];
                targets[(b * length) + p] = s[offset + p + 1];
            }
        }

        var matrix = module.EncodeItems(items);
        var padded = cat([matrix, zeros(1, matrix.shape[1])], 0);
        var sessionInputs = padded.index_select(0, tensor(inputs)).view(batch.Length, length, -1);
        var outputs = module.EncodeSessions(sessionInputs).view(batch.Length * length, -1);
        var scoringItems = module.ScoringItems(matrix);
        var targetTensor = tensor(targets);
        var valid = targetTensor.ge(0).nonzero().squeeze(1);
        var h = outputs.index_select(0, valid);
        var y = targetTensor.index_select(0, valid);
        // Cross-entropy over the whole catalogue in row chunks: a [positions, items] block over 32 MiB would be
        // served by fresh mmap pages every step (see M2TRecModule.MeanBag).
        var rows = h.shape[0];
        var chunk = Math.Max(1, (4 << 20) / Math.Max(1, n));
        var unreleased = UnreleasedMask(split);
        Tensor? total = null;
        for (long start = 0; start < rows; start += chunk)
        {
            var size = Math.Min(chunk, rows - start);
            var logits = module.ScoringSession(h.narrow(0, start, size)).matmul(scoringItems.t());
            var part = nn.functional.cross_entropy(unreleased is null ? logits : logits + unreleased, y.narrow(0, start, size), reduction: nn.Reduction.Sum);
            total = total is null ? part : total + part;
        }

        var loss = total! / Math.Max(1, rows);
        if (labels is not null && module.Heads(h) is { } heads)
        {
            loss += options.PrimaryWeight * HeadLoss(heads.Primary, labels[0], y);
            for (var l = 0; l < heads.Sub.Length; l++)
            {
                loss += options.SubcategoryWeight / heads.Sub.Length * HeadLoss(heads.Sub[l], labels[l + 1], y);
            }
        }

        return loss;
    }

    /// <summary>
    /// −∞ for the split's unreleased items, 0 for the rest ([N]), or null when all are released: added to the
    /// logits, it keeps items that were not in the catalogue at training time out of the softmax — an item that
    /// does not exist yet is no negative, and pushing its metadata down would sink it when it arrives.
    /// </summary>
    internal static Tensor? UnreleasedMask(LeaveOneOutSplit split)
    {
        if (split.Unreleased.Count == 0)
        {
            return null;
        }

        var mask = new float[split.ItemCount];
        foreach (var i in split.Unreleased)
        {
            mask[i] = float.NegativeInfinity;
        }

        return tensor(mask);
    }

    /// <summary>Cross-entropy of a category head, ignoring targets without a category at that level.</summary>
    private static Tensor HeadLoss(Tensor logits, long[] labelOfItem, Tensor targetItems)
    {
        var labels = tensor(labelOfItem).index_select(0, targetItems);
        var sum = nn.functional.cross_entropy(logits, labels, ignore_index: ItemFeaturizer.Pad, reduction: nn.Reduction.Sum);
        return sum / labels.ne(ItemFeaturizer.Pad).sum().clamp_min(1);
    }

    internal static long[][] CategoryLabels(ItemFeatureTable table) =>
        [.. Enumerable.Range(0, ItemFeaturizer.Levels).Select(l => Enumerable.Range(0, table.Count).Select(i => table.Categories[(i * ItemFeaturizer.Levels) + l]).ToArray())];

    /// <summary>NDCG@20 on the validation targets with full ranking and history masked (ties against the target).</summary>
    private static double Validate(M2TRecModule module, ItemTensors items, LeaveOneOutSplit split, int[] users)
    {
        using var _ = no_grad();
        module.eval();
        double sum = 0;
        using var matrix = module.EncodeItems(items).detach();
        for (var start = 0; start < users.Length; start += 512)
        {
            using var scope = NewDisposeScope();
            var batch = users.AsSpan(start, Math.Min(512, users.Length - start)).ToArray();
            var sessions = module.ScoringSession(Encode(module, matrix, [.. batch.Select(u => split.Train[u])]));
            var scores = sessions.matmul(module.ScoringItems(matrix).t());
            var rows = new List<long>();
            var columns = new List<long>();
            for (var b = 0; b < batch.Length; b++)
            {
                foreach (var i in split.Train[batch[b]])
                {
                    rows.Add(b);
                    columns.Add(i);
                }
            }

            scores.index_put_(float.NegativeInfinity, [tensor(rows.ToArray()), tensor(columns.ToArray())]);
            if (UnreleasedMask(split) is { } unreleased)
            {
                scores += unreleased;
            }

            var target = scores.gather(1, tensor(batch.Select(u => (long)split.Valid[u]).ToArray()).view(-1, 1));
            var ranks = scores.ge(target).sum(1).sub(1).data<long>().ToArray();
            sum += ranks.Sum(r => RankingMetrics.Ndcg((int)r, 20));
        }

        return sum / users.Length;
    }

    /// <summary>
    /// Batches of sequences of similar length (random within a length), at most <see cref="M2TRecOptions.BatchSize"/>
    /// sequences and <see cref="M2TRecOptions.TokensPerBatch"/> padded positions each, in random order: little
    /// padding, and no batch pays for one long sequence.
    /// </summary>
    private static List<int[]> Batches(LeaveOneOutSplit split, int[] users, M2TRecOptions options, Random random)
    {
        int Length(int u) => Math.Min(split.Train[u].Length - 1, options.MaxLength);
        var ordered = users.Select(u => (User: u, Length: Length(u), Key: random.Next())).OrderBy(e => e.Length).ThenBy(e => e.Key).ToArray();
        var batches = new List<int[]>();
        var current = new List<int>();
        var longest = 0;
        foreach (var (user, length, _) in ordered)
        {
            var longer = Math.Max(longest, length);
            if (current.Count > 0 && (current.Count >= options.BatchSize || (current.Count + 1) * longer > options.TokensPerBatch))
            {
                batches.Add([.. current]);
                current.Clear();
                longer = length;
            }

            current.Add(user);
            longest = longer;
        }

        if (current.Count > 0)
        {
            batches.Add([.. current]);
        }

        for (var i = batches.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (batches[i], batches[j]) = (batches[j], batches[i]);
        }

        return batches;
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        foreach (var t in tensors?.Values ?? Enumerable.Empty<Tensor>())
        {
            t.Dispose();
        }
    }
}
