namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;
using SessionRec.Models.Ranking;

/// <summary>The ranking stage's per-request loops over every item: each must equal the plain loop it replaced.</summary>
public sealed class ScanKernelTests
{
    [Theory(Timeout = 30_000)]
    [InlineData(64, 1_001)]
    [InlineData(32, 3)]
    [InlineData(8, 9)]
    [InlineData(12, 50)]
    [InlineData(64, 0)]
    public void Scoring_rows_four_at_a_time_equals_a_dot_product_per_row_bit_for_bit(int dim, int rows)
    {
        var random = new Random(dim + rows);
        var query = Enumerable.Range(0, dim).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var matrix = Enumerable.Range(0, (rows * dim) + 5).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var scale = Enumerable.Range(0, rows).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
        var scores = new float[rows];
        VectorMath.DotRows(query, matrix, scale, scores);
        for (var r = 0; r < rows; r++)
        {
            var expected = scale[r] * VectorMath.Dot(query, matrix.AsSpan(r * dim, dim));
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(scores[r]));
        }

        // Unscaled (the inverted file's centroid directions): the plain dot products, bit for bit.
        VectorMath.DotRows(query, matrix, scores);
        for (var r = 0; r < rows; r++)
        {
            var expected = VectorMath.Dot(query, matrix.AsSpan(r * dim, dim));
            Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(scores[r]));
        }
    }

    [Theory(Timeout = 30_000)]
    [InlineData(12_000, 100)]
    [InlineData(50, 100)]
    [InlineData(500, 1)]
    [InlineData(10, 0)]
    public void The_top_k_of_a_scan_are_the_highest_scores_ties_to_the_lower_item_nan_skipped(int count, int k)
    {
        var random = new Random(count + k);
        // Scores from a few values, so ties are everywhere, and some NaN.
        var scores = Enumerable.Range(0, count).Select(_ => random.Next(20) == 0 ? float.NaN : random.Next(-30, 30) / 4f).ToArray();
        var expected = scores.Select((score, item) => (Item: item, Score: (double)score))
            .Where(e => !double.IsNaN(e.Score))
            .OrderByDescending(e => e.Score).ThenBy(e => e.Item)
            .Take(k)
            .ToList();
        Assert.Equal(expected, TopK.Select(scores.AsSpan(), k));
    }
}
