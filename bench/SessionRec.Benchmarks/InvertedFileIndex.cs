namespace SessionRec.Benchmarks;

using System.Numerics.Tensors;
using SessionRec.Models.Serving;

/// <summary>
/// An experiment beside the HNSW index: an inverted-file index (IVF) for highest inner products. Rows are mapped
/// to unit vectors with the same transform as <see cref="AnnIndex"/> ((v, √(M² − |v|²)) / M), clustered by
/// spherical k-means on a sample; a query scores every centroid, then exactly scores the rows of the
/// <c>probe</c> best lists. Partitions do not care whether the query lies near the rows' manifold, which is where
/// the proximity graph lost session vectors at 1M rows.
/// </summary>
public sealed class InvertedFileIndex
{
    private readonly int _dim;
    private readonly float[] _centroids;
    private readonly int[][] _lists;

    // The rows' scored vectors (as ItemVectorIndex scores them), stored list after list, so a probe reads each list
    // as one contiguous block; _starts[c] is list c's first position in it, _rows maps positions back to rows.
    private readonly float[] _vectors;
    private readonly int[] _starts;
    private readonly int[] _rows;
    private readonly int _vectorDim;

    private InvertedFileIndex(int dim, float[] centroids, int[][] lists, ItemVectorIndex index)
    {
        _dim = dim;
        _centroids = centroids;
        _lists = lists;
        _vectorDim = index.Dim;
        _starts = new int[lists.Length + 1];
        _rows = new int[lists.Sum(l => l.Length)];
        _vectors = new float[_rows.Length * _vectorDim];
        var at = 0;
        for (var c = 0; c < lists.Length; c++)
        {
            _starts[c] = at;
            foreach (var row in lists[c])
            {
                _rows[at] = row;
                index.ScoredVector(row).CopyTo(_vectors.AsSpan(at * _vectorDim, _vectorDim));
                at++;
            }
        }

        _starts[lists.Length] = at;
    }

    /// <summary>
    /// The <paramref name="count"/> highest-scoring rows among the <paramref name="probe"/> best lists, each list's
    /// vectors read as one block; <paramref name="scanned"/> is how many rows were scored.
    /// </summary>
    public List<(int Row, float Score)> Search(float[] query, int probe, int count, out int scanned)
    {
        var augmented = new float[_dim];
        query.CopyTo(augmented, 0);
        var lists = _lists.Length;
        var centroidScores = new float[lists];
        for (var c = 0; c < lists; c++)
        {
            centroidScores[c] = TensorPrimitives.Dot(_centroids.AsSpan(c * _dim, _dim), augmented);
        }

        var best = SessionRec.Models.Baseline.TopK.Select(centroidScores, probe);
        scanned = best.Sum(b => _starts[b.Item + 1] - _starts[b.Item]);
        var scores = new float[scanned];
        var positions = new int[scanned];
        var n = 0;
        foreach (var (list, _) in best)
        {
            for (var at = _starts[list]; at < _starts[list + 1]; at++)
            {
                scores[n] = TensorPrimitives.Dot(_vectors.AsSpan(at * _vectorDim, _vectorDim), query);
                positions[n++] = at;
            }
        }

        return [.. SessionRec.Models.Baseline.TopK.Select(scores, count).Select(t => (_rows[positions[t.Item]], (float)t.Score))];
    }

    public int Lists => _lists.Length;

    public static InvertedFileIndex Build(ItemVectorIndex index, int lists, int sample = 60_000, int iterations = 8, int seed = 3)
    {
        var rows = index.Count;
        var dim = index.Dim + 1;
        var unit = Transform(index, rows);
        var random = new Random(seed);
        var sampled = Enumerable.Range(0, rows).OrderBy(_ => random.Next()).Take(Math.Min(sample, rows)).ToArray();
        var centroids = new float[lists * dim];
        for (var c = 0; c < lists; c++)
        {
            unit.AsSpan(sampled[c % sampled.Length] * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
        }

        var assignment = new int[sampled.Length];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            Parallel.For(0, sampled.Length, i => assignment[i] = Nearest(centroids, lists, dim, unit.AsSpan(sampled[i] * dim, dim)));
            var sums = new float[lists * dim];
            var counts = new int[lists];
            for (var i = 0; i < sampled.Length; i++)
            {
                TensorPrimitives.Add(sums.AsSpan(assignment[i] * dim, dim), unit.AsSpan(sampled[i] * dim, dim), sums.AsSpan(assignment[i] * dim, dim));
                counts[assignment[i]]++;
            }

            for (var c = 0; c < lists; c++)
            {
                var centroid = sums.AsSpan(c * dim, dim);
                if (counts[c] == 0)
                {
                    unit.AsSpan(sampled[random.Next(sampled.Length)] * dim, dim).CopyTo(centroid);
                }

                var norm = TensorPrimitives.Norm(centroid);
                TensorPrimitives.Divide(centroid, Math.Max(norm, 1e-12f), centroid);
            }

            centroids = sums;
        }

        var owner = new int[rows];
        Parallel.For(0, rows, row => owner[row] = Nearest(centroids, lists, dim, unit.AsSpan(row * dim, dim)));
        var members = new List<int>[lists];
        for (var c = 0; c < lists; c++)
        {
            members[c] = [];
        }

        for (var row = 0; row < rows; row++)
        {
            members[owner[row]].Add(row);
        }

        return new InvertedFileIndex(dim, centroids, [.. members.Select(m => m.ToArray())], index);
    }

    private static int Nearest(float[] centroids, int lists, int dim, ReadOnlySpan<float> vector)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var c = 0; c < lists; c++)
        {
            var score = TensorPrimitives.Dot(centroids.AsSpan(c * dim, dim), vector);
            if (score > bestScore)
            {
                bestScore = score;
                best = c;
            }
        }

        return best;
    }

    private static float[] Transform(ItemVectorIndex index, int rows)
    {
        var dim = index.Dim + 1;
        var vectors = new float[rows][];
        var longest = 1e-12f;
        for (var row = 0; row < rows; row++)
        {
            vectors[row] = index.ScoredVector(row);
            longest = Math.Max(longest, TensorPrimitives.Norm(vectors[row]));
        }

        var unit = new float[rows * dim];
        for (var row = 0; row < rows; row++)
        {
            var target = unit.AsSpan(row * dim, dim);
            var v = vectors[row];
            var norm = TensorPrimitives.Norm(v);
            TensorPrimitives.Divide(v, longest, target[..^1]);
            target[^1] = MathF.Sqrt(Math.Max(0, (longest * longest) - (norm * norm))) / longest;
        }

        return unit;
    }
}
