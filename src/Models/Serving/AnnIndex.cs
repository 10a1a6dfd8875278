namespace SessionRec.Models.Serving;

using Cloud.Unum.USearch;

/// <summary>
/// Approximate nearest neighbours by inner product over the first <see cref="Rows"/> rows of an
/// <see cref="ItemVectorIndex"/> as they were when it was built (USearch: HNSW, SIMD distances). Immutable once
/// built; searches run side by side, at most one per core (USearch keeps one search context per hardware thread).
/// Native memory: ~(4·dim + 2·connectivity·4) bytes per row, released by <see cref="Dispose"/>.
/// </summary>
public sealed class AnnIndex : IDisposable
{
    private readonly USearchIndex _index;
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private int _disposed;

    private AnnIndex(USearchIndex index, int rows)
    {
        _index = index;
        Rows = rows;
    }

    /// <summary>The rows [0, Rows) it holds.</summary>
    public int Rows { get; }

    /// <summary>
    /// Indexes the first <paramref name="rows"/> rows of <paramref name="index"/>, each as it is scored (cosine
    /// models' rows scaled to unit length), so the inner product here is the index's score.
    /// </summary>
    public static AnnIndex Build(ItemVectorIndex index, int rows, int connectivity = 16, int expansionAdd = 128, int expansionSearch = 256, CancellationToken cancellationToken = default)
    {
        var dim = index.Dim;
        var ann = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dim, (ulong)connectivity, (ulong)expansionAdd, (ulong)expansionSearch);
        try
        {
            const int Chunk = 4_096;
            for (var start = 0; start < rows; start += Chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var end = Math.Min(rows, start + Chunk);
                var keys = new ulong[end - start];
                var vectors = new float[end - start][];
                for (var row = start; row < end; row++)
                {
                    keys[row - start] = (ulong)row;
                    vectors[row - start] = index.ScoredVector(row);
                }

                ann.Add(keys, vectors);
            }

            return new AnnIndex(ann, rows);
        }
        catch
        {
            ann.Dispose();
            throw;
        }
    }

    /// <summary>The rows of (about) the <paramref name="count"/> highest inner products with <paramref name="query"/>.</summary>
    public int[] Search(float[] query, int count)
    {
        _slots.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var found = _index.Search(query, Math.Min(count, Rows), out var keys, out _);
            var rows = new int[found];
            for (var i = 0; i < found; i++)
            {
                rows[i] = (int)keys[i];
            }

            return rows;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Frees the native index once no search runs (a search after this throws).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        for (var i = 0; i < Environment.ProcessorCount; i++)
        {
            _slots.Wait();
        }

        _index.Dispose();
    }
}
