namespace SessionRec.Models.Serving;

/// <summary>
/// Approximate highest inner products over the first <see cref="Rows"/> rows of an <see cref="ItemVectorIndex"/> as
/// they were when it was built: the candidates the ranking stage then scores exactly. Immutable once built; searches
/// run side by side.
/// </summary>
public interface IApproximateIndex : IDisposable
{
    /// <summary>The rows [0, Rows) it holds.</summary>
    int Rows { get; }

    /// <summary>The rows of (about) the <paramref name="count"/> highest inner products with <paramref name="query"/>, best first.</summary>
    int[] Search(float[] query, int count);

    /// <summary>
    /// About the <paramref name="count"/> rows of highest inner product, in no order, for a caller that scores them
    /// exactly itself: an index may spare the exact ordering <see cref="Search"/> does.
    /// </summary>
    int[] Candidates(float[] query, int count) => Search(query, count);
}

/// <summary>The self-check both kinds of index run before they serve.</summary>
public static class ApproximateIndexCheck
{
    /// <summary>
    /// Recall@<paramref name="k"/> of <paramref name="ann"/> against the exact scan of the rows it holds, over
    /// <paramref name="samples"/> queries: half of them item vectors (rows spread over the index), half session-like —
    /// the mean of four rows' vectors, which lies off the rows' manifold as session vectors do (item vectors alone
    /// passed a graph that real sessions found 0.46 of the way at 1M rows).
    /// </summary>
    /// <param name="search">The search to measure (default: the index's own); the benchmark passes other probe counts.</param>
    public static double MeasureRecall(this IApproximateIndex ann, ItemVectorIndex index, int samples = 20, int k = 100, Func<float[], int, int[]>? search = null)
    {
        search ??= ann.Search;
        var rows = ann.Rows;
        var scores = new float[rows];
        double found = 0;
        var queries = Math.Min(samples, rows);
        var random = new Random(17);
        for (var q = 0; q < queries; q++)
        {
            var query = index.Vector((int)((long)q * rows / queries)).ToArray();
            if (q % 2 == 1)
            {
                for (var i = 0; i < 3; i++)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(query, index.Vector(random.Next(rows)), query);
                }

                System.Numerics.Tensors.TensorPrimitives.Divide(query, 4f, query);
            }

            index.Score(query, scores);
            var exact = Baseline.TopK.Select(scores, k);
            var threshold = (float)exact[^1].Score - 1e-5f;
            found += Math.Min(exact.Count, search(query, k).Count(row => scores[row] >= threshold)) / (double)exact.Count;
        }

        return queries == 0 ? 1 : found / queries;
    }
}
