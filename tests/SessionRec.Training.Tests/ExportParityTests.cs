namespace SessionRec.Training.Tests;

using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training.Export;

public sealed class ExportParityTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sessionrec-model-" + Guid.NewGuid().ToString("N"));

    static ExportParityTests() => Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    internal static TrainedModel TrainTiny(M2TRecOptions options)
    {
        var split = SyntheticData.Split();
        var featurizer = ItemFeaturizer.Fit(split.Dataset.Items);
        return M2TRecTrainer.Train(split, featurizer, ItemFeatureTable.Build(featurizer, split.Dataset.Items), options);
    }

    internal static readonly M2TRecOptions Tiny = new() { Dim = 16, FieldDim = 8, Layers = 2, Heads = 2, FeedForward = 32, MaxLength = 10, MaxEpochs = 2, Threads = 1, ValidationUsers = 100 };

    public static TheoryData<string, bool, bool, string, string> Variants => new()
    {
        { "last", true, false, "linear", "dot" },
        { "mean", false, true, "linear", "dot" },
        { "last", false, false, "mlp", "cosine" },
        { "last", true, true, "mlp", "dot" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Onnx_runtime_matches_the_torch_forward_pass(string pooling, bool idResidual, bool heads, string tower, string scoring)
    {
        var options = Tiny with { Pooling = pooling, IdResidual = idResidual, ChooseOnValidation = false, PrimaryWeight = heads ? 0.3 : 0, SubcategoryWeight = heads ? 0.3 : 0, ItemTower = tower, Scoring = scoring };
        var model = TrainTiny(options);
        var parameters = model.Module.named_parameters().Select(p => p.name).ToList();
        Assert.Equal(scoring == "cosine", parameters.Contains("log_scale"));
        Assert.Equal(tower == "mlp", parameters.Contains("hidden.weight"));
        var dataset = SyntheticData.Create();
        ModelFolderWriter.Write(_folder, "parity", model, new TrainingData("synthetic", "x", 400, 300, 1), [.. dataset.Items.Select(i => i.Id)], null);
        using var onnx = OnnxRecommenderModel.Load(_folder);

        var torchItems = M2TRecTrainer.ItemMatrix(model);
        var onnxItems = onnx.EncodeItems(dataset.Items);
        Assert.Equal(torchItems.Length, onnxItems.Length);
        AssertClose(torchItems, onnxItems);

        // Sessions of several lengths, one longer than MaxLength (truncated to its last items), in one padded batch.
        int[][] histories = [[3], [3, 6, 9, 12], [.. Enumerable.Range(0, 25).Select(i => i * 3)], [1, 4]];
        var torchSessions = M2TRecTrainer.SessionVectors(model, histories);
        var d = options.Dim;
        var length = histories.Max(h => Math.Min(h.Length, options.MaxLength));
        var input = new float[histories.Length * length * d];
        var last = new long[histories.Length];
        for (var b = 0; b < histories.Length; b++)
        {
            var h = histories[b].TakeLast(options.MaxLength).ToArray();
            for (var p = 0; p < h.Length; p++)
            {
                onnxItems.AsSpan(h[p] * d, d).CopyTo(input.AsSpan(((b * length) + p) * d, d));
            }

            last[b] = h.Length - 1;
        }

        AssertClose(torchSessions, onnx.EncodeSessions(input, histories.Length, length, last));
    }

    [Fact]
    public void Only_items_with_enough_training_interactions_get_a_residual_and_the_rest_serve_their_metadata_vector()
    {
        const int MinCount = 6;
        var counts = SyntheticData.Split().ItemCounts(Models.Evaluation.Phase.Validation);
        var model = TrainTiny(Tiny with { IdResidual = true, ChooseOnValidation = false, ResidualMinCount = MinCount });
        Assert.Equal("hybrid", model.ItemVectors);
        var dataset = SyntheticData.Create();
        var manifest = ModelFolderWriter.Write(_folder, "gated", model, new TrainingData("synthetic", "x", 400, 300, 1), [.. dataset.Items.Select(i => i.Id)], null);

        var expected = dataset.Items.Where((_, i) => counts[i] >= MinCount).Select(i => i.Id).ToList();
        Assert.InRange(expected.Count, 1, dataset.Items.Count - 1);
        Assert.Equal(expected, manifest.ResidualItemIds);

        // The torch model and the served one agree on every item, so the rows left out of the residual file carry no
        // residual in training either; and those rows are exactly what the item encoder alone gives.
        using var onnx = OnnxRecommenderModel.Load(_folder);
        var served = onnx.EncodeItems(dataset.Items);
        AssertClose(M2TRecTrainer.ItemMatrix(model), served);
        var d = Tiny.Dim;
        var pure = onnx.EncodeItems([.. dataset.Items.Select(i => i with { Id = "unseen-" + i.Id })]);
        for (var i = 0; i < dataset.Items.Count; i++)
        {
            var same = served.AsSpan(i * d, d).SequenceEqual(pure.AsSpan(i * d, d));
            Assert.Equal(counts[i] < MinCount, same);
        }
    }

    [Fact]
    public void A_corrupt_or_mismatching_model_folder_is_refused()
    {
        var model = TrainTiny(Tiny with { MaxEpochs = 1 });
        ModelFolderWriter.Write(_folder, "v1", model, new TrainingData("synthetic", "x", 1, 1, 1), [], null);
        using (OnnxRecommenderModel.Load(_folder))
        {
        }

        var encoder = Path.Combine(_folder, ModelContract.SessionEncoderFile);
        var bytes = File.ReadAllBytes(encoder);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(encoder, bytes);
        var corrupt = Assert.Throws<InvalidDataException>(() => OnnxRecommenderModel.Load(_folder));
        Assert.Contains("SHA-256", corrupt.Message, StringComparison.Ordinal);

        ModelFolderWriter.Write(_folder, "v1", model, new TrainingData("synthetic", "x", 1, 1, 1), [], null);
        var manifestPath = Path.Combine(_folder, ModelContract.ManifestFile);
        File.WriteAllText(manifestPath, File.ReadAllText(manifestPath).Replace("\"dim\": 16", "\"dim\": 32", StringComparison.Ordinal).Replace("16\n      ]", "32\n      ]", StringComparison.Ordinal));
        Assert.Throws<InvalidDataException>(() => OnnxRecommenderModel.Load(_folder));

        File.WriteAllText(manifestPath, "{ not json");
        Assert.Throws<InvalidDataException>(() => OnnxRecommenderModel.Load(_folder));
        File.Delete(manifestPath);
        Assert.Throws<InvalidDataException>(() => OnnxRecommenderModel.Load(_folder));
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-4, $"largest difference {worst}");
        Assert.Contains(expected, v => Math.Abs(v) > 1e-3);
    }
}
