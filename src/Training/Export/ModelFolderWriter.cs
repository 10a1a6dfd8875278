namespace SessionRec.Training.Export;

using System.Security.Cryptography;
using System.Text.Json;
using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;

/// <summary>Writes a trained model as a model folder: the two graphs, the residuals if any, and manifest.json.</summary>
public static class ModelFolderWriter
{
    public static ModelManifest Write(
        string folder,
        string version,
        TrainedModel model,
        TrainingData data,
        IReadOnlyList<string> itemIds,
        FusionWeights? fusion,
        IReadOnlyDictionary<string, double>? metrics = null,
        MultiRound.MultiRoundModel? multiRound = null,
        FeatureCoverage? coverage = null)
    {
        if (multiRound is not null && !ReferenceEquals(multiRound.Model, model))
        {
            throw new ArgumentException("A multi-round model is written with the base model it fine-tuned (multiRound.Model).", nameof(multiRound));
        }

        var options = model.Module.Options;
        if (!options.Metadata)
        {
            throw new InvalidOperationException("Only metadata models are served: an ID-only model cannot score a new item.");
        }

        Directory.CreateDirectory(folder);
        var files = new Dictionary<string, ModelFile>
        {
            ["item_encoder"] = WriteFile(folder, ModelContract.ItemEncoderFile, OnnxExporter.ItemEncoder(model)),
            ["session_encoder"] = WriteFile(folder, ModelContract.SessionEncoderFile, OnnxExporter.SessionEncoder(model)),
        };
        string[]? residualIds = null;
        if (OnnxExporter.Residuals(model) is ({ } rows, { } residuals))
        {
            var bytes = new byte[residuals.Length * sizeof(float)];
            Buffer.BlockCopy(residuals, 0, bytes, 0, bytes.Length);
            files["residuals"] = WriteFile(folder, ModelContract.ResidualsFile, bytes);
            residualIds = [.. rows.Select(row => itemIds[row])];
        }

        var d = options.Dim;
        var sessionSignature = new Dictionary<string, long[]>
        {
            [ModelContract.SessionItems] = [-1, -1, d],
            [ModelContract.LastPosition] = [-1],
            [ModelContract.Session] = [-1, d],
            [ModelContract.User] = [-1, d],
        };
        if (options.HasHeads)
        {
            sessionSignature[ModelContract.PrimaryLogits] = [-1, model.Featurizer.CategoryVocabulary[0]];
        }

        if (multiRound is not null)
        {
            files["round_encoder"] = WriteFile(folder, ModelContract.RoundEncoderFile, OnnxExporter.RoundEncoder(multiRound));
        }

        var signatures = new Dictionary<string, Dictionary<string, long[]>>
        {
            ["item_encoder"] = new()
            {
                [ModelContract.Brand] = [-1],
                [ModelContract.Categories] = [-1, ItemFeaturizer.Levels],
                [ModelContract.Title] = [-1, ItemFeaturizer.MaxTitleTokens],
                [ModelContract.Attributes] = [-1, ItemFeaturizer.MaxAttributes],
                [ModelContract.Price] = [-1],
                [ModelContract.ItemVectors] = [-1, d],
            },
            ["session_encoder"] = sessionSignature,
        };
        if (multiRound is not null)
        {
            signatures["round_encoder"] = new()
            {
                [ModelContract.SessionItems] = [-1, -1, d],
                [ModelContract.LastPosition] = [-1],
                [ModelContract.Retrieved] = [-1, -1, d],
                [ModelContract.PreviousUser] = [-1, d],
                [ModelContract.PreviousState] = [-1, d],
                [ModelContract.Session] = [-1, d],
                [ModelContract.User] = [-1, d],
                [ModelContract.State] = [-1, d],
            };
        }

        var manifest = new ModelManifest
        {
            Format = ModelContract.Format,
            Version = version,
            Kind = residualIds is null ? "m2trec" : "m2trec+id-residual",
            ItemVectors = model.ItemVectors,
            Created = DateTimeOffset.UtcNow,
            FeaturizerVersion = ItemFeaturizer.Version,
            Featurizer = model.Featurizer,
            Dim = d,
            MaxLength = options.MaxLength,
            Scoring = options.Scoring,
            Signatures = signatures,
            Files = files,
            Training = data,
            Hyperparameters = JsonSerializer.SerializeToElement(options, ModelManifest.Json).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
            Metrics = new Dictionary<string, double>(metrics ?? new Dictionary<string, double>())
            {
                ["validation_" + M2TRecTrainer.ValidationMetric] = Math.Round(model.BestValidation, 5),
                ["epochs"] = model.Epochs.Count,
                ["training_seconds"] = Math.Round(model.Elapsed.TotalSeconds, 1),
            },
            Fusion = fusion,
            MultiRound = multiRound is null ? null : new MultiRoundSettings(multiRound.Options.Rounds, multiRound.Options.PerRound),
            ResidualItemIds = residualIds,
            Coverage = coverage,
        };
        if (multiRound is not null)
        {
            manifest.Metrics["validation_multiround_" + MultiRound.MultiRoundTrainer.ValidationMetric] = Math.Round(multiRound.BestValidation, 5);
        }

        File.WriteAllText(Path.Combine(folder, ModelContract.ManifestFile), manifest.ToJson());
        return manifest;
    }

    private static ModelFile WriteFile(string folder, string name, byte[] bytes)
    {
        File.WriteAllBytes(Path.Combine(folder, name), bytes);
        return new ModelFile(name, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
