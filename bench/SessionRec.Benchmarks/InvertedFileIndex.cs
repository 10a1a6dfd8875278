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

    private InvertedFileIndex(int dim, float[] centroids, int[][] lists)
    {
        _dim = dim;
        _centroids = centroids;
        _lists = lists;
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

        return new InvertedFileIndex(dim, centroids, [.. members.Select(m => m.ToArray())]);
    }

    /// <summary>The rows of the <paramref name="probe"/> lists whose centroids score highest against the query.</summary>
    public List<int> Candidates(ReadOnlySpan<float> query, int probe)
    {
        var q = new float[_dim];
        query.CopyTo(q);
        var lists = _lists.Length;
        var scores = new float[lists];
        for (var c = 0; c < lists; c++)
        {
            scores[c] = TensorPrimitives.Dot(_centroids.AsSpan(c * _dim, _dim), q);
        }

        var order = Enumerable.Range(0, lists).OrderByDescending(c => scores[c]).Take(probe);
        var rows = new List<int>();
        foreach (var c in order)
        {
            rows.AddRange(_lists[c]);
        }

        return rows;
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
