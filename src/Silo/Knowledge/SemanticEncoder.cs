namespace SessionRec.Silo.Knowledge;

using Microsoft.Extensions.Options;
using SessionRec.KnowledgeStore.Linking;

/// <summary>
/// The silo's one MiniLM encoder, loaded on first use (~90 MB, ~0.3 s), or none when semantic linking is off.
/// Callers run it off the grain scheduler (Task.Run): it is CPU work.
/// </summary>
public sealed class SemanticEncoder(IOptions<KnowledgeServiceOptions> options) : IDisposable
{
    private readonly Lazy<MiniLmEncoder?> _encoder = new(() => options.Value.SemanticLinking ? new MiniLmEncoder() : null);

    public ITextEncoder? Encoder => _encoder.Value;

    public void Dispose()
    {
        if (_encoder.IsValueCreated)
        {
            _encoder.Value?.Dispose();
        }
    }
}
