namespace SessionRec.Api.Tests;

using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training;
using SessionRec.Training.Export;

/// <summary>A real metadata transformer, trained here in seconds on the synthetic catalogue, written as a model folder.</summary>
public static class TinyModel
{
    public static TrainedModel Train(int seed)
    {
        var split = SyntheticData.Split();
        var featurizer = ItemFeaturizer.Fit(split.Dataset.Items);
        var options = new M2TRecOptions { Dim = 16, FieldDim = 8, FeedForward = 32, MaxLength = 10, MaxEpochs = 12, Patience = 12, LearningRate = 3e-3, Threads = 1, ValidationUsers = 100, Seed = seed };
        return M2TRecTrainer.Train(split, featurizer, ItemFeatureTable.Build(featurizer, split.Dataset.Items), options);
    }

    public static void Write(string modelsFolder, string tenant, string version, TrainedModel model) =>
        ModelFolderWriter.Write(Path.Combine(modelsFolder, tenant, version), version, model, new TrainingData("synthetic", "test", 400, 300, 3000), [], new FusionWeights(0.5f, 0));
}

/// <summary>
/// The test classes that train models and serve them run one after the other, so their TorchSharp training and
/// catalogue activations do not compete for the two cores (run side by side right after a build, one of them failed
/// once; not reproduced in seven further runs).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ModelServingCollection
{
    public const string Name = "model serving";
}
