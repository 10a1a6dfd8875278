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

    /// <summary>Recall@<paramref name="k"/> against the exact scan, with <paramref name="samples"/> item vectors as queries (a check before it serves).</summary>
    double MeasureRecall(ItemVectorIndex index, int samples = 20, int k = 100);
}

/// <summary>The self-check both kinds of index run before they serve.</summary>
public static class ApproximateIndexCheck
{
    /// <summary>
    /// Recall@<paramref name="k"/> of <paramref name="ann"/> against the exact scan of the rows it holds, with
    /// <paramref name="samples"/> item vectors (rows spread over the index) as queries.
    /// </summary>
    public static double MeasureRecall(IApproximateIndex ann, ItemVectorIndex index, int samples, int k)
    {
        var rows = ann.Rows;
        var scores = new float[rows];
        double found = 0;
        var queries = Math.Min(samples, rows);
        for (var q = 0; q < queries; q++)
        {
            var query = index.Vector((int)((long)q * rows / queries)).ToArray();
            index.Score(query, scores);
            var exact = Baseline.TopK.Select(scores, k);
            var threshold = (float)exact[^1].Score - 1e-5f;
            found += Math.Min(exact.Count, ann.Search(query, k).Count(row => scores[row] >= threshold)) / (double)exact.Count;
        }

        return queries == 0 ? 1 : found / queries;
    }
}
