namespace SessionRec.Models.Serving;

using Cloud.Unum.USearch;

/// <summary>
/// Approximate highest inner products over the first <see cref="Rows"/> rows of an <see cref="ItemVectorIndex"/> as
/// they were when it was built (USearch: HNSW, SIMD distances). Inner products of vectors of unequal length are a
/// poor fit for a proximity graph (0.62 recall@100 on a trained model's item vectors), so each row v is stored as
/// (v, √(M² − |v|²)) / M, M the longest row, and the query as (q, 0): every stored vector has unit length and the
/// cosine to the query orders rows exactly as q · v does (the transform of Bachrach et al., RecSys 2014). Immutable
/// once built; searches run side by side, at most one per core (USearch keeps one search context per hardware
/// thread). Optionally, rows with identical vectors (items whose metadata are alike: common in poor catalogues, and in
/// the benchmark's synthetic one) are indexed once, and a search returns each found vector's rows, all tied.
/// Native memory: ~(4·(dim + 1) + 2·connectivity·4) bytes per distinct vector, released by <see cref="Dispose"/>;
/// managed: 4 bytes per duplicate row.
/// </summary>
public sealed class AnnIndex : IApproximateIndex
{
    private readonly USearchIndex _index;
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private readonly int _dim;
    private int _disposed;

    // Representative row → the other rows with the same vector (only for vectors with copies).
    private readonly Dictionary<int, int[]> _copies;

    // USearch searches with max(its expansion setting, the count asked for); a loaded index has lost the setting, so
    // every search asks for at least this many and keeps what it needs: built and loaded indexes answer alike.
    private readonly int _expansion;

    private AnnIndex(USearchIndex index, int rows, int dim, Dictionary<int, int[]> copies, int expansion)
    {
        _index = index;
        _expansion = expansion;
        Rows = rows;
        _dim = dim;
        _copies = copies;
        Distinct = rows - copies.Values.Sum(c => c.Length);
    }

    /// <summary>The rows [0, Rows) it holds.</summary>
    public int Rows { get; }

    /// <summary>How many distinct vectors it indexes (the rest of its rows are copies of them).</summary>
    public int Distinct { get; }

    /// <summary>
    /// For each row it holds, the row whose vector stands for it in the index (itself for most): what a snapshot
    /// stores so <see cref="Load"/> restores the copies.
    /// </summary>
    public int[] Representatives()
    {
        var of = Enumerable.Range(0, Rows).ToArray();
        foreach (var (representative, copies) in _copies)
        {
            foreach (var row in copies)
            {
                of[row] = representative;
            }
        }

        return of;
    }

    /// <summary>
    /// Indexes the first <paramref name="rows"/> rows of <paramref name="index"/>, each as it is scored (cosine
    /// models' rows scaled to unit length), so the inner product here is the index's score.
    /// </summary>
    /// <param name="collapseDuplicates">Index rows with identical vectors once (see the class remarks). Off by default:
    /// on the benchmark's catalogues it lifted recall@100 at 1M rows (0.46 → 0.57) and halved the build, but lowered it
    /// at 100k (0.968 → 0.923; its self-check 0.98 → 0.88), for a reason not yet found.</param>
    public static AnnIndex Build(ItemVectorIndex index, int rows, int connectivity = 16, int expansionAdd = 128, int expansionSearch = 256, bool collapseDuplicates = false)
    {
        var dim = index.Dim;
        var longest = 1e-12f;
        var representativeOf = new int[rows];
        var byHash = new Dictionary<int, List<int>>();
        for (var row = 0; row < rows; row++)
        {
            var vector = index.ScoredVector(row);
            longest = MathF.Max(longest, SquaredLength(vector));
            representativeOf[row] = row;
            if (!collapseDuplicates)
            {
                continue;
            }

            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()));
            var key = hash.ToHashCode();
            if (!byHash.TryGetValue(key, out var candidates))
            {
                byHash[key] = [row];
                continue;
            }

            var same = candidates.FindIndex(other => index.ScoredVector(other).AsSpan().SequenceEqual(vector));
            if (same >= 0)
            {
                representativeOf[row] = candidates[same];
            }
            else
            {
                candidates.Add(row);
            }
        }

        var ann = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dim + 1, (ulong)connectivity, (ulong)expansionAdd, (ulong)expansionSearch);
        try
        {
            const int Chunk = 4_096;
            var keys = new List<ulong>(Chunk);
            var vectors = new List<float[]>(Chunk);
            for (var row = 0; row < rows; row++)
            {
                if (representativeOf[row] != row)
                {
                    continue;
                }

                keys.Add((ulong)row);
                vectors.Add(Augmented(index.ScoredVector(row), longest));
                if (keys.Count == Chunk)
                {
                    ann.Add([.. keys], [.. vectors]);
                    keys.Clear();
                    vectors.Clear();
                }
            }

            if (keys.Count > 0)
            {
                ann.Add([.. keys], [.. vectors]);
            }

            return new AnnIndex(ann, rows, dim, Copies(representativeOf), expansionSearch);
        }
        catch
        {
            ann.Dispose();
            throw;
        }
    }

    private static Dictionary<int, int[]> Copies(int[] representativeOf) =>
        Enumerable.Range(0, representativeOf.Length).Where(row => representativeOf[row] != row)
            .GroupBy(row => representativeOf[row]).ToDictionary(g => g.Key, g => g.ToArray());

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

    /// <summary>
    /// An index <see cref="Save"/> wrote, over the rows of <paramref name="representatives"/> (as
    /// <see cref="Representatives"/> gave them) of vectors <paramref name="dim"/> wide.
    /// </summary>
    public static AnnIndex Load(string path, int[] representatives, int dim, int expansionSearch = 256)
    {
        var copies = Copies(representatives);
        var distinct = representatives.Length - copies.Values.Sum(c => c.Length);
        var ann = new USearchIndex(path);
        var (size, dimensions) = (ann.Size(), ann.Dimensions());
        if ((long)size != distinct || (long)dimensions != dim + 1)
        {
            ann.Dispose();
            throw new InvalidDataException($"{path} holds {size} vectors of {dimensions} dimensions, not {distinct} of {dim + 1}.");
        }

        return new AnnIndex(ann, representatives.Length, dim, copies, expansionSearch);
    }

    /// <summary>
    /// The rows of (about) the <paramref name="count"/> highest inner products with <paramref name="query"/>, best
    /// first: each vector found, then its copies (tied with it), up to <paramref name="count"/> rows.
    /// </summary>
    public int[] Search(float[] query, int count)
    {
        _slots.Wait();
        ulong[] keys;
        int found;
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var augmented = new float[_dim + 1];
            query.AsSpan(0, _dim).CopyTo(augmented);
            found = _index.Search(augmented, Math.Min(Math.Max(count, _expansion), Distinct), out keys, out _);
        }
        finally
        {
            _slots.Release();
        }

        found = Math.Min(found, count);
        if (_copies.Count == 0)
        {
            var rows = new int[found];
            for (var i = 0; i < found; i++)
            {
                rows[i] = (int)keys[i];
            }

            return rows;
        }

        // Each vector's copies right after it: they are tied with it, as in the exact scan.
        var result = new List<int>(count);
        for (var i = 0; i < found && result.Count < count; i++)
        {
            var row = (int)keys[i];
            result.Add(row);
            if (_copies.TryGetValue(row, out var copies))
            {
                result.AddRange(copies.AsSpan(0, Math.Min(copies.Length, count - result.Count)));
            }
        }

        return [.. result];
    }

    internal static float SquaredLength(float[] vector)
    {
        var sum = 0f;
        foreach (var x in vector)
        {
            sum += x * x;
        }

        return sum;
    }

    /// <summary>
    /// (v, √(M² − |v|²)) / M for M² = <paramref name="longest"/>: unit length, and q · v / M against (q, 0). The
    /// inverted file clusters rows in the same form.
    /// </summary>
    internal static float[] Augmented(float[] vector, float longest)
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
