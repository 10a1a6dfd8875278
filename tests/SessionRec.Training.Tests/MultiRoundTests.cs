namespace SessionRec.Training.Tests;

using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training.Export;
using SessionRec.Training.MultiRound;
using TorchSharp;
using static TorchSharp.torch;

public sealed class MultiRoundTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sessionrec-rounds-" + Guid.NewGuid().ToString("N"));

    static MultiRoundTests() => Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static readonly MultiRoundOptions Tiny = new() { Rounds = 3, PerRound = 6, MaxEpochs = 2, BatchSize = 64, ValidationUsers = 100 };

    [Theory]
    [InlineData(6)]
    [InlineData(7)]
    public void The_frequency_filter_matrices_equal_rfft_times_the_weight_then_irfft(int k)
    {
        torch.manual_seed(3);
        var adapters = new RoundAdapters(8, k, 0);
        var weights = adapters.state_dict();
        using var _ = no_grad();
        var x = randn(2, 3, k, 8);
        var spectrum = torch.fft.rfft(x, dim: 2);
        var complexWeight = torch.complex(weights["filter_real"], weights["filter_imag"]);
        var expected = torch.fft.irfft(spectrum * complexWeight, n: k, dim: 2);
        var actual = adapters.Filter(x);
        var worst = (expected - actual).abs().max().item<float>();
        Assert.True(worst < 1e-5, $"largest difference {worst}");
        Assert.True(actual.abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void Rounds_retrieve_disjoint_items_that_avoid_the_history()
    {
        var split = SyntheticData.Split();
        var model = ExportParityTests.TrainTiny(ExportParityTests.Tiny with { MaxEpochs = 1 });
        var rounds = MultiRoundTrainer.FineTune(model, split, model.Module.Options, Tiny with { MaxEpochs = 1 });
        Assert.NotSame(model.Module, rounds.Model.Module);
        int[][] histories = [[3, 6, 9], [1, 4], [.. Enumerable.Range(0, 25).Select(i => i * 3)]];
        var lists = MultiRoundTrainer.Retrieve(rounds, histories);
        for (var b = 0; b < histories.Length; b++)
        {
            Assert.Equal(Tiny.Rounds * Tiny.PerRound, lists[b].Length);
            Assert.Equal(lists[b].Length, lists[b].Distinct().Count());
            Assert.Empty(lists[b].Intersect(histories[b]));
        }

        // Round 1 is the fine-tuned base model's own top k.
        var single = MultiRoundTrainer.Retrieve(rounds, histories, rounds: 1);
        Assert.Equal(single.Select(l => l.ToArray()), lists.Select(l => l.Take(Tiny.PerRound).ToArray()));
    }

    [Fact]
    public void Fine_tuning_lowers_the_multi_round_loss_and_keeps_the_best_epoch()
    {
        var split = SyntheticData.Split();
        var model = ExportParityTests.TrainTiny(ExportParityTests.Tiny with { MaxEpochs = 2 });
        var rounds = MultiRoundTrainer.FineTune(model, split, model.Module.Options, Tiny with { MaxEpochs = 6, Patience = 6 });
        // Epoch 0 (before fine-tuning) is a candidate too; then six epochs.
        Assert.Equal(Enumerable.Range(0, 7), rounds.Epochs.Select(e => e.Epoch));
        Assert.True(rounds.Epochs[^1].Loss < rounds.Epochs[1].Loss, $"loss {rounds.Epochs[1].Loss} → {rounds.Epochs[^1].Loss}");
        Assert.Equal(rounds.Epochs.Max(e => e.ValidationMetric), rounds.BestValidation);
    }

    [Fact]
    public void Untrained_gated_adapters_continue_the_single_pass_ranking()
    {
        var split = SyntheticData.Split();
        var model = ExportParityTests.TrainTiny(ExportParityTests.Tiny with { MaxEpochs = 1 });
        var rounds = MultiRoundTrainer.FineTune(model, split, model.Module.Options, Tiny with { MaxEpochs = 0 });
        Assert.Equal(0, Assert.Single(rounds.Epochs).Epoch);
        int[][] histories = [[3, 6, 9], [1, 4]];
        var lists = MultiRoundTrainer.Retrieve(rounds, histories);
        var scores = M2TRecTrainer.SessionVectors(model, histories);
        var items = M2TRecTrainer.ScoringMatrix(model);
        var d = model.Module.Options.Dim;
        for (var b = 0; b < histories.Length; b++)
        {
            var single = Enumerable.Range(0, model.Module.ItemCount).Where(i => !histories[b].Contains(i))
                .OrderByDescending(i => Enumerable.Range(0, d).Sum(k => scores[(b * d) + k] * items[(i * d) + k]))
                .Take(lists[b].Length).ToArray();
            var agree = single.Zip(lists[b], (e, a) => e == a).Count(x => x);
            Assert.True(agree >= single.Length - 2, $"history {b}: {agree} of {single.Length} positions continue the single pass");
        }
    }

    [Theory]
    [InlineData("dot", true)]
    [InlineData("cosine", true)]
    [InlineData("dot", false)]
    public void Onnx_runtime_round_encoder_matches_the_torch_rounds(string scoring, bool gated)
    {
        var split = SyntheticData.Split();
        var model = ExportParityTests.TrainTiny(ExportParityTests.Tiny with { MaxEpochs = 1, Scoring = scoring });
        var rounds = MultiRoundTrainer.FineTune(model, split, model.Module.Options, Tiny with { MaxEpochs = 2, Gated = gated });
        Assert.Equal(gated, rounds.Adapters.Gated);

        // Whatever the short fine-tuning kept (possibly epoch 0, with closed gates), every adapter weight must reach
        // the graph: move them all off their values.
        using (no_grad())
        {
            torch.manual_seed(11);
            foreach (var (_, parameter) in rounds.Adapters.named_parameters())
            {
                parameter.add_(randn_like(parameter) * 0.3f);
            }
        }

        var dataset = SyntheticData.Create();
        ModelFolderWriter.Write(_folder, "rounds", rounds.Model, new TrainingData("synthetic", "x", 400, 300, 1), [.. dataset.Items.Select(i => i.Id)], null, multiRound: rounds);
        using var onnx = OnnxRecommenderModel.Load(_folder);
        Assert.Equal(new MultiRoundSettings(Tiny.Rounds, Tiny.PerRound), onnx.MultiRound);

        int[][] histories = [[3, 6, 9, 12], [1, 4], [.. Enumerable.Range(0, 25).Select(i => i * 3)]];
        var expected = MultiRoundTrainer.Retrieve(rounds, histories);

        // The serving loop: round 1 by the session encoder, later rounds by the round encoder, each a full scan with
        // the history and earlier rounds masked — the same lists as the torch rounds.
        var d = onnx.Dim;
        var items = onnx.EncodeItems(dataset.Items);
        var scoring_ = scoring == "cosine" ? Normalized(items, d) : items;
        var length = histories.Max(h => Math.Min(h.Length, onnx.Manifest.MaxLength));
        var input = new float[histories.Length * length * d];
        var last = new long[histories.Length];
        for (var b = 0; b < histories.Length; b++)
        {
            var h = histories[b].TakeLast(onnx.Manifest.MaxLength).ToArray();
            for (var p = 0; p < h.Length; p++)
            {
                items.AsSpan(h[p] * d, d).CopyTo(input.AsSpan(((b * length) + p) * d, d));
            }

            last[b] = h.Length - 1;
        }

        var (session, user) = onnx.EncodeSessionsWithUser(input, histories.Length, length, last);
        var state = new float[histories.Length * d];
        var lists = histories.Select(_ => new List<int>()).ToArray();
        for (var t = 0; t < Tiny.Rounds; t++)
        {
            if (t > 0)
            {
                var count = t * Tiny.PerRound;
                var retrieved = new float[histories.Length * count * d];
                for (var b = 0; b < histories.Length; b++)
                {
                    for (var p = 0; p < count; p++)
                    {
                        items.AsSpan(lists[b][p] * d, d).CopyTo(retrieved.AsSpan(((b * count) + p) * d, d));
                    }
                }

                var torchRound = TorchRound(rounds, histories, lists, t);
                (session, user, state) = onnx.EncodeRound(input, histories.Length, length, last, retrieved, count, user, state);
                var worst = torchRound.Zip(session, (e, a) => Math.Abs(e - a)).Max();
                Assert.True(worst <= 1e-4, $"round {t + 1}: largest difference {worst}");
            }

            for (var b = 0; b < histories.Length; b++)
            {
                var u = session.AsSpan(b * d, d).ToArray();
                var masked = histories[b].Concat(lists[b]).ToHashSet();
                var top = Enumerable.Range(0, dataset.Items.Count).Where(i => !masked.Contains(i))
                    .OrderByDescending(i => Dot(u, scoring_.AsSpan(i * d, d))).Take(Tiny.PerRound);
                lists[b].AddRange(top);
            }
        }

        for (var b = 0; b < histories.Length; b++)
        {
            // Near-ties may swap between the two runtimes; the rounds must agree on (almost) every item.
            var agree = expected[b].Zip(lists[b], (e, a) => e == a).Count(x => x);
            Assert.True(agree >= expected[b].Length - 2, $"history {b}: {agree} of {expected[b].Length} positions agree");
        }
    }

    /// <summary>The torch session vector of round t (0-based) given the lists the ONNX loop retrieved so far.</summary>
    private static float[] TorchRound(MultiRoundModel rounds, int[][] histories, List<int>[] lists, int t)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var module = rounds.Model.Module;
        using var table = new ItemTensors(rounds.Model.Table);
        var matrix = module.EncodeItems(table);
        var (inputs, last) = M2TRecTrainer.SessionInputs(module, matrix, histories);
        Tensor? user = null;
        Tensor? state = null;
        for (var r = 0; r <= t; r++)
        {
            if (r == 0)
            {
                user = M2TRecTrainer.Last(module.EncodeSessions(inputs), last);
                continue;
            }

            state = rounds.Adapters.Step(user!, state ?? zeros_like(user!));
            var retrieved = tensor(lists.SelectMany(l => l.Take(r * rounds.Options.PerRound)).Select(i => (long)i).ToArray());
            var memory = rounds.Adapters.AdaptItems(matrix.index_select(0, retrieved).view(histories.Length, r, rounds.Options.PerRound, -1));
            var encoded = M2TRecTrainer.Last(module.EncodeSessions(rounds.Adapters.AdaptSequence(inputs, memory)), last);
            user = rounds.Adapters.AdaptUser(encoded, state);
        }

        return module.ScoringSession(user!).contiguous().data<float>().ToArray();
    }

    private static float[] Normalized(float[] items, int d)
    {
        var result = (float[])items.Clone();
        for (var i = 0; i < items.Length / d; i++)
        {
            var row = result.AsSpan(i * d, d);
            var norm = MathF.Max(1e-6f, MathF.Sqrt(Dot(row, row)));
            foreach (ref var v in row)
            {
                v /= norm;
            }
        }

        return result;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
