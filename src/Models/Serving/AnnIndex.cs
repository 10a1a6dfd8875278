namespace SessionRec.Models.Serving;

using Cloud.Unum.USearch;

/// <summary>
/// Approximate highest inner products over the first <see cref="Rows"/> rows of an <see cref="ItemVectorIndex"/> as
/// they were when it was built (USearch: HNSW, SIMD distances). Inner products of vectors of unequal length are a
/// poor fit for a proximity graph (0.62 recall@100 on a trained model's item vectors), so each row v is stored as
/// (v, √(M² − |v|²)) / M, M the longest row, and the query as (q, 0): every stored vector has unit length and the
/// cosine to the query orders rows exactly as q · v does (the transform of Bachrach et al., RecSys 2014). Immutable
/// once built; searches run side by side, at most one per core (USearch keeps one search context per hardware
/// thread). Native memory: ~(4·(dim + 1) + 2·connectivity·4) bytes per row, released by <see cref="Dispose"/>.
/// </summary>
public sealed class AnnIndex : IDisposable
{
    private readonly USearchIndex _index;
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private readonly int _dim;
    private int _disposed;

    private AnnIndex(USearchIndex index, int rows, int dim)
    {
        _index = index;
        Rows = rows;
        _dim = dim;
    }

    /// <summary>The rows [0, Rows) it holds.</summary>
    public int Rows { get; }

    /// <summary>
    /// Indexes the first <paramref name="rows"/> rows of <paramref name="index"/>, each as it is scored (cosine
    /// models' rows scaled to unit length), so the inner product here is the index's score.
    /// </summary>
    public static AnnIndex Build(ItemVectorIndex index, int rows, int connectivity = 16, int expansionAdd = 128, int expansionSearch = 256)
    {
        var dim = index.Dim;
        var longest = 1e-12f;
        for (var row = 0; row < rows; row++)
        {
            longest = MathF.Max(longest, SquaredLength(index.ScoredVector(row)));
        }

        var ann = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dim + 1, (ulong)connectivity, (ulong)expansionAdd, (ulong)expansionSearch);
        try
        {
            const int Chunk = 4_096;
            for (var start = 0; start < rows; start += Chunk)
            {
                var end = Math.Min(rows, start + Chunk);
                var keys = new ulong[end - start];
                var vectors = new float[end - start][];
                for (var row = start; row < end; row++)
                {
                    keys[row - start] = (ulong)row;
                    vectors[row - start] = Augmented(index.ScoredVector(row), longest);
                }

                ann.Add(keys, vectors);
            }

            return new AnnIndex(ann, rows, dim);
        }
        catch
        {
            ann.Dispose();
            throw;
        }
    }

    /// <summary>Writes the index to <paramref name="path"/> (USearch's own format); searches may run meanwhile.</summary>
    public void Save(string path)
    {
        _slots.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            _index.Save(path);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>An index <see cref="Save"/> wrote, over rows [0, <paramref name="rows"/>) of vectors <paramref name="dim"/> wide.</summary>
    public static AnnIndex Load(string path, int rows, int dim)
    {
        var ann = new USearchIndex(path);
        var (size, dimensions) = (ann.Size(), ann.Dimensions());
        if ((long)size != rows || (long)dimensions != dim + 1)
        {
            ann.Dispose();
            throw new InvalidDataException($"{path} holds {size} vectors of {dimensions} dimensions, not {rows} of {dim + 1}.");
        }

        return new AnnIndex(ann, rows, dim);
    }

    /// <summary>The rows of (about) the <paramref name="count"/> highest inner products with <paramref name="query"/>.</summary>
    public int[] Search(float[] query, int count)
    {
        _slots.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var augmented = new float[_dim + 1];
            query.AsSpan(0, _dim).CopyTo(augmented);
            var found = _index.Search(augmented, Math.Min(count, Rows), out var keys, out _);
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

    private static float SquaredLength(float[] vector)
    {
        var sum = 0f;
        foreach (var x in vector)
        {
            sum += x * x;
        }

        return sum;
    }

    /// <summary>(v, √(M² − |v|²)) / M for M² = <paramref name="longest"/>: unit length, and q · v / M against (q, 0).</summary>
    private static float[] Augmented(float[] vector, float longest)
    {
        var scale = 1f / MathF.Sqrt(longest);
        var augmented = new float[vector.Length + 1];
        for (var d = 0; d < vector.Length; d++)
        {
            augmented[d] = vector[d] * scale;
        }

        augmented[^1] = MathF.Sqrt(MathF.Max(0, longest - SquaredLength(vector))) * scale;
        return augmented;
    }

    /// <summary>
    /// Recall@<paramref name="k"/> against the exact scan of the rows it holds, with <paramref name="samples"/> item
    /// vectors (rows spread over the index) as queries: a check of this index on this catalogue before it serves.
    /// </summary>
    public double MeasureRecall(ItemVectorIndex index, int samples = 20, int k = 100)
    {
        var scores = new float[Rows];
        double found = 0;
        var queries = Math.Min(samples, Rows);
        for (var q = 0; q < queries; q++)
        {
            var query = index.Vector((int)((long)q * Rows / queries)).ToArray();
            index.Score(query, scores);
            var exact = Baseline.TopK.Select(scores, k);
            var threshold = (float)exact[^1].Score - 1e-5f;
            found += Math.Min(exact.Count, Search(query, k).Count(row => scores[row] >= threshold)) / (double)exact.Count;
        }

        return queries == 0 ? 1 : found / queries;
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
