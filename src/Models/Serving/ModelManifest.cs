namespace SessionRec.Models.Serving;

using System.Text.Json;
using System.Text.Json.Serialization;
using SessionRec.Models.Featurization;

/// <summary>Input and output names of the exported graphs: the contract between the exporter and the server.</summary>
public static class ModelContract
{
    public const string Format = "sessionrec-model/1";
    public const string ManifestFile = "manifest.json";
    public const string ItemEncoderFile = "item_encoder.onnx";
    public const string SessionEncoderFile = "session_encoder.onnx";
    public const string ResidualsFile = "item_residuals.bin";

    public const string Brand = "brand";
    public const string Categories = "categories";
    public const string Title = "title";
    public const string Attributes = "attributes";
    public const string Price = "price";
    public const string ItemVectors = "item_vectors";

    public const string SessionItems = "session_items";
    public const string LastPosition = "last_position";
    public const string Session = "session";
    public const string PrimaryLogits = "primary_logits";

    /// <summary>The raw user vector a round ends with (the next round's GRU reads it); equals <see cref="Session"/> for dot scoring.</summary>
    public const string User = "user";

    public const string RoundEncoderFile = "round_encoder.onnx";
    public const string Retrieved = "retrieved";
    public const string PreviousUser = "previous_user";
    public const string PreviousState = "previous_state";
    public const string State = "state";

    /// <summary>A version names a folder: 1–128 letters, digits, '-', '_' or '.', not starting with '.'.</summary>
    public static bool IsValidVersion(string version) =>
        version.Length is > 0 and <= 128 && !version.StartsWith('.') && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>A file of a model folder and the SHA-256 it must have.</summary>
public sealed record ModelFile(string Path, string Sha256);

/// <summary>Where a model's training data came from, so a model can be traced to the log it learned from.</summary>
public sealed record TrainingData(string Dataset, string Fingerprint, int Users, int Items, long Interactions);

/// <summary>
/// How the ranking stage fuses the model with the co-occurrence sources (weights tuned on validation). Popularity is
/// log(1 + interactions) and may weigh negatively: a softmax model leans towards popular items, and cold items
/// gain when that lean is taken back.
/// </summary>
/// <c>MultiRound</c> weighs an item found by multi-round retrieval in round r (of T trained) by 1 − (r − 1)/T.
/// <c>SessionKnn</c> weighs the session-kNN votes of <see cref="Baseline.SessionNeighbours"/> (absent in older manifests: 0).
public sealed record FusionWeights(float Cooccurrence, float ItemKnn, float Popularity = 0, float NewItem = 0, float MultiRound = 0, float SessionKnn = 0);

/// <summary>Multi-round retrieval a model was trained for: rounds of <see cref="PerRound"/> items (round_encoder.onnx serves rounds 2+).</summary>
public sealed record MultiRoundSettings(int Rounds, int PerRound);

/// <summary>
/// manifest.json of a model folder: what the graphs expect and produce, the featurizer vocabularies, the
/// training data fingerprint, the hyperparameters and the evaluation metrics. Checked at load.
/// </summary>
public sealed record ModelManifest
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public required string Format { get; init; }

    public required string Version { get; init; }

    public required string Kind { get; init; }

    public required DateTimeOffset Created { get; init; }

    public required string FeaturizerVersion { get; init; }

    public required ItemFeaturizer Featurizer { get; init; }

    public required int Dim { get; init; }

    public required int MaxLength { get; init; }

    /// <summary>"dot" or "cosine" (the server divides each item's score by the item vector's length).</summary>
    public string Scoring { get; init; } = "dot";

    /// <summary>Inputs and outputs of each graph: name → shape (-1 for a dynamic dimension).</summary>
    public required Dictionary<string, Dictionary<string, long[]>> Signatures { get; init; }

    public required Dictionary<string, ModelFile> Files { get; init; }

    public required TrainingData Training { get; init; }

    public required Dictionary<string, JsonElement> Hyperparameters { get; init; }

    public Dictionary<string, double> Metrics { get; init; } = [];

    public FusionWeights? Fusion { get; init; }

    /// <summary>Present when the folder has a round encoder (multi-round retrieval).</summary>
    public MultiRoundSettings? MultiRound { get; init; }

    /// <summary>Item ids of the rows of item_residuals.bin, when the model has per-item residuals.</summary>
    public string[]? ResidualItemIds { get; init; }

    /// <summary>
    /// "metadata" (item vectors from metadata alone) or "hybrid" (plus the residuals of items frequent in training),
    /// as chosen on validation by training; null in manifests written before the choice existed.
    /// </summary>
    public string? ItemVectors { get; init; }

    /// <summary>What the training catalogue's metadata gave the item encoder.</summary>
    public Featurization.FeatureCoverage? Coverage { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ModelManifest Parse(string json) =>
        JsonSerializer.Deserialize<ModelManifest>(json, Json) ?? throw new InvalidDataException("manifest.json is empty.");
}
