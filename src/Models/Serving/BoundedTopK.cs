namespace SessionRec.Models.Serving;

using System.Buffers;
using System.Numerics;
using SessionRec.Models.Baseline;

/// <summary>
/// The k best entries by exact score, as <see cref="TopK.Select(ReadOnlySpan{float}, int)"/> picks them from exact
/// scores, given approximate scores within known bounds (<see cref="ItemCodes"/>): the k-th highest lower bound is a
/// score the exact k-th reaches, so only entries whose upper bound reaches it are scored exactly.
/// </summary>
public static class BoundedTopK
{
    /// <summary>An entry's exact score.</summary>
    public interface IExactScores
    {
        float Score(int entry);
    }

    /// <summary>
    /// The <paramref name="k"/> best entries, highest first (a tie to the lower entry; NaN left out). Each bound is
    /// widened by a millionth of its score first (sums added to the approximate scores round too); bounds are
    /// overwritten.
    /// </summary>
    public static List<(int Entry, double Score)> Select<TExact>(ReadOnlySpan<float> approx, Span<float> bounds, int k, TExact exact)
        where TExact : IExactScores
    {
        var count = approx.Length;
        var lower = ArrayPool<float>.Shared.Rent(Math.Max(1, count));
        try
        {
            var width = Vector<float>.Count;
            var i = 0;
            for (; i + width <= count; i += width)
            {
                var a = new Vector<float>(approx[i..]);
                var margin = (new Vector<float>(bounds[i..]) * 1.02f) + (Vector.Abs(a) * 1e-6f);
                margin.CopyTo(bounds[i..]);
                (a - margin).CopyTo(lower.AsSpan(i));
            }

            for (; i < count; i++)
            {
                bounds[i] = (bounds[i] * 1.02f) + (MathF.Abs(approx[i]) * 1e-6f);
                lower[i] = approx[i] - bounds[i];
            }

            var cut = TopK.Select(lower.AsSpan(0, count), k);
            var threshold = cut.Count < k ? float.NegativeInfinity : (float)cut[^1].Score;
            var scored = new List<(int Entry, double Score)>(k * 2);
            for (var entry = 0; entry < count; entry++)
            {
                if (approx[entry] + bounds[entry] >= threshold && exact.Score(entry) is var score && !float.IsNaN(score))
                {
                    scored.Add((entry, score));
                }
            }

            scored.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Entry.CompareTo(b.Entry));
            if (scored.Count > k)
            {
                scored.RemoveRange(k, scored.Count - k);
            }

            return scored;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(lower);
        }
    }
}
