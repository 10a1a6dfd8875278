namespace SessionRec.Silo.Knowledge;

using SessionRec.KnowledgeStore.Linking;

/// <summary>
/// The silo's one MiniLM encoder (~90 MB, ~0.3 s to load idle, seconds on a busy machine), loaded while the process
/// starts (<see cref="StartLoading"/>, from the host's configuration or <see cref="SemanticEncoderWarmUp"/>) rather
/// than by the first request or a grain activation; linking stored records uses aliases only and never needs it.
/// Callers run it off the grain scheduler (Task.Run): it is CPU work.
/// </summary>
public sealed class SemanticEncoder : ITextEncoder, IDisposable
{
    private readonly Lazy<MiniLmEncoder> _encoder = new(() => new MiniLmEncoder());
    private readonly Models.Serving.InFlightGuard _calls = new();
    private Task? _loading;

    public int Dimension => 384;

    /// <summary>Starts loading the model in the background (once); the task finishes when it is in memory.</summary>
    public Task StartLoading()
    {
        lock (_encoder)
        {
            return _loading ??= Task.Run(() => _encoder.Value.Encode(["warm up"]));
        }
    }

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        using var call = _calls.Enter(this);
        return _encoder.Value.Encode(texts, cancellationToken);
    }

    /// <summary>The silo stops: frees the encoder once no encoding runs (background knowledge work may still be encoding).</summary>
    public void Dispose()
    {
        if (_calls.Close(TimeSpan.FromSeconds(30)) && _encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }
    }
}
