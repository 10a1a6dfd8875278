namespace SessionRec.Models.Serving;

using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SessionRec.Models.Data;
using SessionRec.Models.Featurization;

/// <summary>
/// A model folder loaded into ONNX Runtime. Loading checks everything the manifest promises (format, featurizer
/// version, file hashes, graph signatures), so a bad or mismatching folder is refused before it can serve.
/// Thread-safe: ONNX Runtime sessions may be run concurrently.
/// </summary>
public sealed class OnnxRecommenderModel : IDisposable
{
    private const int ItemChunk = 4096;

    private readonly InFlightGuard _calls = new();
    private readonly InferenceSession _items;
    private readonly InferenceSession _sessions;
    private readonly InferenceSession? _rounds;
    private readonly bool _sessionHasUser;
    private readonly Dictionary<string, int>? _residualRows;
    private readonly float[]? _residuals;

    private OnnxRecommenderModel(string folder, ModelManifest manifest, InferenceSession items, InferenceSession sessions, InferenceSession? rounds, float[]? residuals)
    {
        _rounds = rounds;
        _sessionHasUser = sessions.OutputMetadata.ContainsKey(ModelContract.User);
        Folder = folder;
        Manifest = manifest;
        _items = items;
        _sessions = sessions;
        _residuals = residuals;
        if (residuals is not null && manifest.ResidualItemIds is { } ids)
        {
            _residualRows = new Dictionary<string, int>(ids.Length, StringComparer.Ordinal);
            for (var r = 0; r < ids.Length; r++)
            {
                _residualRows[ids[r]] = r;
            }
        }
    }

    public string Folder { get; }

    public ModelManifest Manifest { get; }

    public string Version => Manifest.Version;

    public int Dim => Manifest.Dim;

    /// <summary>The multi-round retrieval the model was trained for, or null when it has no round encoder.</summary>
    public MultiRoundSettings? MultiRound => _rounds is null ? null : Manifest.MultiRound;

    public static OnnxRecommenderModel Load(string folder)
    {
        var manifestPath = Path.Combine(folder, ModelContract.ManifestFile);
        if (!File.Exists(manifestPath))
        {
            throw new InvalidDataException($"{folder} has no {ModelContract.ManifestFile}.");
        }

        ModelManifest manifest;
        try
        {
            manifest = ModelManifest.Parse(File.ReadAllText(manifestPath));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{manifestPath} is not a valid manifest: {e.Message}", e);
        }

        if (manifest.Format != ModelContract.Format)
        {
            throw new InvalidDataException($"{manifestPath}: format '{manifest.Format}', this server reads '{ModelContract.Format}'.");
        }

        if (manifest.FeaturizerVersion != ItemFeaturizer.Version)
        {
            throw new InvalidDataException($"{manifestPath}: featurizer '{manifest.FeaturizerVersion}', this server has '{ItemFeaturizer.Version}'.");
        }

        foreach (var (name, file) in manifest.Files)
        {
            var path = Path.Combine(folder, file.Path);
            if (!File.Exists(path))
            {
                throw new InvalidDataException($"{folder}: {name} file {file.Path} is missing.");
            }

            using var stream = File.OpenRead(path);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(hash, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"{folder}: {file.Path} has SHA-256 {hash}, the manifest says {file.Sha256} (corrupt or replaced).");
            }
        }

        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        InferenceSession? items = null;
        InferenceSession? sessions = null;
        InferenceSession? rounds = null;
        try
        {
            items = Open(folder, manifest, "item_encoder", options);
            sessions = Open(folder, manifest, "session_encoder", options);
            if (manifest.MultiRound is { } multiRound)
            {
                if (multiRound.Rounds < 1 || multiRound.PerRound < 1)
                {
                    throw new InvalidDataException($"{manifestPath}: multi_round needs rounds ≥ 1 and per_round ≥ 1.");
                }

                rounds = Open(folder, manifest, "round_encoder", options);
            }

            float[]? residuals = null;
            if (manifest.Files.TryGetValue("residuals", out var residualFile))
            {
                var bytes = File.ReadAllBytes(Path.Combine(folder, residualFile.Path));
                residuals = new float[bytes.Length / sizeof(float)];
                Buffer.BlockCopy(bytes, 0, residuals, 0, residuals.Length * sizeof(float));
                if (manifest.ResidualItemIds is null || residuals.Length != manifest.ResidualItemIds.Length * manifest.Dim)
                {
                    throw new InvalidDataException($"{folder}: {residualFile.Path} holds {residuals.Length} floats, expected {manifest.ResidualItemIds?.Length ?? 0} × {manifest.Dim}.");
                }
            }

            return new OnnxRecommenderModel(folder, manifest, items, sessions, rounds, residuals);
        }
        catch
        {
            items?.Dispose();
            sessions?.Dispose();
            rounds?.Dispose();
            throw;
        }
        finally
        {
            options.Dispose();
        }
    }

    /// <summary>Item vectors [items, Dim]: the metadata encoder, plus the trained residual of each item that has one.</summary>
    public float[] EncodeItems(IReadOnlyList<ImportItem> items)
    {
        using var call = _calls.Enter(this);
        var dim = Dim;
        var result = new float[items.Count * dim];
        for (var start = 0; start < items.Count; start += ItemChunk)
        {
            var count = Math.Min(ItemChunk, items.Count - start);
            var table = ItemFeatureTable.Build(Manifest.Featurizer, [.. Enumerable.Range(start, count).Select(i => items[i])]);
            OrtValue[] inputs =
            [
                OrtValue.CreateTensorValueFromMemory(table.Brand, [count]),
                OrtValue.CreateTensorValueFromMemory(table.Categories, [count, ItemFeaturizer.Levels]),
                OrtValue.CreateTensorValueFromMemory(table.Title, [count, ItemFeaturizer.MaxTitleTokens]),
                OrtValue.CreateTensorValueFromMemory(table.Attributes, [count, ItemFeaturizer.MaxAttributes]),
                OrtValue.CreateTensorValueFromMemory(table.Price, [count]),
            ];
            try
            {
                using var run = new RunOptions();
                using var outputs = _items.Run(
                    run,
                    [ModelContract.Brand, ModelContract.Categories, ModelContract.Title, ModelContract.Attributes, ModelContract.Price],
                    inputs,
                    [ModelContract.ItemVectors]);
                outputs[0].GetTensorDataAsSpan<float>().CopyTo(result.AsSpan(start * dim, count * dim));
            }
            finally
            {
                foreach (var input in inputs)
                {
                    input.Dispose();
                }
            }
        }

        if (_residualRows is not null && _residuals is not null)
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (_residualRows.TryGetValue(items[i].Id, out var row))
                {
                    var target = result.AsSpan(i * dim, dim);
                    var residual = _residuals.AsSpan(row * dim, dim);
                    for (var k = 0; k < dim; k++)
                    {
                        target[k] += residual[k];
                    }
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Session vectors [batch, Dim] for sessions given as item vectors [batch, length, Dim] (right-padded) and the
    /// index of each session's last item.
    /// </summary>
    public float[] EncodeSessions(float[] sessionItems, int batch, int length, long[] lastPosition)
    {
        using var call = _calls.Enter(this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Manifest.MaxLength);
        using var items = OrtValue.CreateTensorValueFromMemory(sessionItems, [batch, length, Dim]);
        using var last = OrtValue.CreateTensorValueFromMemory(lastPosition, [batch]);
        using var run = new RunOptions();
        using var outputs = _sessions.Run(run, [ModelContract.SessionItems, ModelContract.LastPosition], [items, last], [ModelContract.Session]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// Round 1: the session vectors as scored and the raw user vectors [batch, Dim] each (the same for dot scoring,
    /// and for folders written before the <c>user</c> output existed).
    /// </summary>
    public (float[] Session, float[] User) EncodeSessionsWithUser(float[] sessionItems, int batch, int length, long[] lastPosition)
    {
        using var call = _calls.Enter(this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Manifest.MaxLength);
        using var items = OrtValue.CreateTensorValueFromMemory(sessionItems, [batch, length, Dim]);
        using var last = OrtValue.CreateTensorValueFromMemory(lastPosition, [batch]);
        using var run = new RunOptions();
        if (!_sessionHasUser)
        {
            using var only = _sessions.Run(run, [ModelContract.SessionItems, ModelContract.LastPosition], [items, last], [ModelContract.Session]);
            var session = only[0].GetTensorDataAsSpan<float>().ToArray();
            return (session, session);
        }

        using var outputs = _sessions.Run(run, [ModelContract.SessionItems, ModelContract.LastPosition], [items, last], [ModelContract.Session, ModelContract.User]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    /// <summary>
    /// A later round of multi-round retrieval: the session as for <see cref="EncodeSessions"/>, every earlier round's
    /// retrieved item vectors [batch, retrievedCount, Dim] (round by round, <see cref="MultiRoundSettings.PerRound"/>
    /// each), the previous round's raw user vector and GRU state [batch, Dim] (zeros before round 2) → this round's
    /// session vector as scored, raw user vector and GRU state.
    /// </summary>
    public (float[] Session, float[] User, float[] State) EncodeRound(float[] sessionItems, int batch, int length, long[] lastPosition, float[] retrieved, int retrievedCount, float[] previousUser, float[] previousState)
    {
        using var call = _calls.Enter(this);
        if (_rounds is null || Manifest.MultiRound is not { } settings)
        {
            throw new InvalidOperationException($"Model {Version} has no round encoder.");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Manifest.MaxLength);
        if (retrievedCount <= 0 || retrievedCount % settings.PerRound != 0)
        {
            throw new ArgumentException($"retrieved holds whole rounds of {settings.PerRound} items; got {retrievedCount}.", nameof(retrievedCount));
        }

        using var items = OrtValue.CreateTensorValueFromMemory(sessionItems, [batch, length, Dim]);
        using var last = OrtValue.CreateTensorValueFromMemory(lastPosition, [batch]);
        using var memory = OrtValue.CreateTensorValueFromMemory(retrieved, [batch, retrievedCount, Dim]);
        using var user = OrtValue.CreateTensorValueFromMemory(previousUser, [batch, Dim]);
        using var state = OrtValue.CreateTensorValueFromMemory(previousState, [batch, Dim]);
        using var run = new RunOptions();
        using var outputs = _rounds.Run(
            run,
            [ModelContract.SessionItems, ModelContract.LastPosition, ModelContract.Retrieved, ModelContract.PreviousUser, ModelContract.PreviousState],
            [items, last, memory, user, state],
            [ModelContract.Session, ModelContract.User, ModelContract.State]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray(), outputs[2].GetTensorDataAsSpan<float>().ToArray());
    }

    /// <summary>Frees the ONNX Runtime sessions once no call runs (a call after this throws <see cref="ObjectDisposedException"/>).</summary>
    public void Dispose()
    {
        if (!_calls.Close(TimeSpan.FromSeconds(30)))
        {
            return; // a call still runs: leave the sessions to the process rather than free them under it
        }

        _items.Dispose();
        _sessions.Dispose();
        _rounds?.Dispose();
    }

    private static InferenceSession Open(string folder, ModelManifest manifest, string name, SessionOptions options)
    {
        if (!manifest.Files.TryGetValue(name, out var file))
        {
            throw new InvalidDataException($"{folder}: the manifest lists no {name}.");
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(Path.Combine(folder, file.Path), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{folder}: {file.Path} does not load: {e.Message}", e);
        }

        if (!manifest.Signatures.TryGetValue(name, out var signature))
        {
            session.Dispose();
            throw new InvalidDataException($"{folder}: the manifest has no signature for {name}.");
        }

        var actual = session.InputMetadata.Concat(session.OutputMetadata).ToDictionary(m => m.Key, m => m.Value.Dimensions.Select(d => (long)d).ToArray());
        foreach (var (port, shape) in signature)
        {
            if (!actual.TryGetValue(port, out var dims) || !dims.SequenceEqual(shape))
            {
                session.Dispose();
                throw new InvalidDataException($"{folder}: {name} {port} is [{string.Join(", ", dims ?? [])}], the manifest says [{string.Join(", ", shape)}].");
            }
        }

        return session;
    }
}
