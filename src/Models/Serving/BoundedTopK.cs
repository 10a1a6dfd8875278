namespace SessionRec.Models.Serving;

using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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

            // Only the k-th highest lower bound is needed, not the k best in order: a selection in place (linear)
            // instead of a heap of k (at k = 400 over ~8,000 probed rows the heap was a sixth of a request's CPU).
            var threshold = KthHighest(lower.AsSpan(0, count), k);
            var keys = ArrayPool<ulong>.Shared.Rent(Math.Max(1, count));
            try
            {
                var n = 0;
                for (var entry = 0; entry < count; entry++)
                {
                    if (approx[entry] + bounds[entry] >= threshold && exact.Score(entry) is var score && !float.IsNaN(score))
                    {
                        keys[n++] = RankKey.Of(score, entry);
                    }
                }

                var best = keys.AsSpan(0, n);
                RankKey.SortBest(best, k);
                var scored = new List<(int Entry, double Score)>(Math.Min(k, n));
                foreach (var key in best[..Math.Min(k, n)])
                {
                    scored.Add((RankKey.Item(key), RankKey.Score(key)));
                }

                return scored;
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(keys);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(lower);
        }
    }

    /// <summary>
    /// The <paramref name="k"/>-th highest of <paramref name="values"/> (NaN counted as −∞; −∞ when there are fewer
    /// than k), reordering them: quickselect on a median of three, finished by a sort if a run of bad pivots goes on.
    /// </summary>
    public static float KthHighest(Span<float> values, int k)
    {
        if (k <= 0 || k > values.Length)
        {
            return float.NegativeInfinity;
        }

        // Large and selective (16,000 probed rows, k = 400): a strided sample gives a value that a few more than k
        // reach; the k-th of all is then the k-th of those few, and the full selection reads every value once, not
        // ~3 times over with a branch each. Only when the sample misjudged (fewer than k reach it) does it select in full.
        if (SampledCut(values, k) is var cut && float.IsFinite(cut))
        {
            var above = 0;
            foreach (var value in values)
            {
                above += value >= cut ? 1 : 0;
            }

            if (above >= k)
            {
                var kept = ArrayPool<float>.Shared.Rent(above);
                var n = 0;
                foreach (var value in values)
                {
                    if (value >= cut)
                    {
                        kept[n++] = value;
                    }
                }

                var kth = SelectInPlace(kept.AsSpan(0, n), k);
                ArrayPool<float>.Shared.Return(kept);
                return kth;
            }
        }

        return SelectInPlace(values, k);
    }

    /// <summary>
    /// The positions of the <paramref name="take"/> highest <paramref name="scores"/> (all when there are fewer), in
    /// position order: every score above the k-th, then as many equal to it as there is room for.
    /// </summary>
    public static int[] HighestPositions(ReadOnlySpan<float> scores, int take)
    {
        take = Math.Min(take, scores.Length);
        if (take <= 0)
        {
            return [];
        }

        if (SampledCut(scores, take) is var sampled && float.IsFinite(sampled) && HighestPositionsAbove(scores, take, sampled) is { } found)
        {
            return found;
        }

        var cut = ArrayPool<float>.Shared.Rent(scores.Length);
        try
        {
            scores.CopyTo(cut);
            var threshold = KthHighest(cut.AsSpan(0, scores.Length), take);
            var result = new int[take];
            var n = 0;
            for (var i = 0; i < scores.Length && n < take; i++)
            {
                if (scores[i] > threshold)
                {
                    result[n++] = i;
                }
            }

            for (var i = 0; i < scores.Length && n < take; i++)
            {
                if (scores[i] == threshold || (float.IsNaN(scores[i]) && float.IsNegativeInfinity(threshold)))
                {
                    result[n++] = i;
                }
            }

            return n == take ? result : result[..n];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(cut);
        }
    }

    /// <summary>
    /// <see cref="HighestPositions"/> of many scores in one pass, given a <see cref="SampledCut"/>: the positions reaching
    /// it are gathered (eight scores compared at a time), and the take-th highest of those few decides. The same positions as the general path (every score above the take-th is
    /// among those gathered, and so is every one equal to it); null when the sample misjudged (fewer than take reach
    /// its value, or too many to be worth it): the general path answers. At 50,000 probed rows and 400 taken it read
    /// the scores once instead of four times (a copy, a count, a gathering, the positions).
    /// </summary>
    private static int[]? HighestPositionsAbove(ReadOnlySpan<float> scores, int take, float cut)
    {
        var most = Math.Min(scores.Length, (take * 8) + 64);
        var gathered = ArrayPool<int>.Shared.Rent(most);
        var values = ArrayPool<float>.Shared.Rent(most);
        try
        {
            var n = 0;
            var at = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var cuts = Vector256.Create(cut);
                ref var first = ref MemoryMarshal.GetReference(scores);
                for (; at + 8 <= scores.Length; at += 8)
                {
                    var mask = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref first, (nuint)at), cuts).ExtractMostSignificantBits();
                    if (mask == 0)
                    {
                        continue;
                    }

                    if (n + 8 > most)
                    {
                        return null;
                    }

                    while (mask != 0)
                    {
                        var position = at + BitOperations.TrailingZeroCount(mask);
                        values[n] = scores[position];
                        gathered[n++] = position;
                        mask &= mask - 1;
                    }
                }
            }

            for (; at < scores.Length; at++)
            {
                if (scores[at] >= cut)
                {
                    if (n == most)
                    {
                        return null;
                    }

                    values[n] = scores[at];
                    gathered[n++] = at;
                }
            }

            if (n < take)
            {
                return null;
            }

            // The gathered values in position order, kept: the take-th highest is chosen on a copy.
            var copy = ArrayPool<float>.Shared.Rent(n);
            float threshold;
            try
            {
                values.AsSpan(0, n).CopyTo(copy);
                threshold = SelectInPlace(copy.AsSpan(0, n), take);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(copy);
            }

            var result = new int[take];
            var taken = 0;
            for (var i = 0; i < n && taken < take; i++)
            {
                if (values[i] > threshold)
                {
                    result[taken++] = gathered[i];
                }
            }

            for (var i = 0; i < n && taken < take; i++)
            {
                if (values[i] == threshold)
                {
                    result[taken++] = gathered[i];
                }
            }

            return result;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(gathered);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>
    /// For many values and a selective k (at least 4,096, k at most an eighth of them): from a strided sample of 1,024,
    /// a value that a few more than k are expected to reach — a cut that lets a selection read only those few. NaN when
    /// the values are too few or k too large for a sample to help; a caller whose cut fewer than k reach selects in full.
    /// </summary>
    private static float SampledCut(ReadOnlySpan<float> values, int k)
    {
        if (values.Length < 4_096 || k * 8L > values.Length)
        {
            return float.NaN;
        }

        const int Sample = 1_024;
        var sample = ArrayPool<float>.Shared.Rent(Sample);
        try
        {
            var stride = values.Length / Sample;
            for (var i = 0; i < Sample; i++)
            {
                sample[i] = values[i * stride];
            }

            var rank = Math.Min(Sample, (int)Math.Ceiling((double)k * Sample / values.Length * 1.5) + 16);
            return SelectInPlace(sample.AsSpan(0, Sample), rank);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sample);
        }
    }


    /// <summary>The k-th highest (1 ≤ k ≤ length; NaN as −∞), reordering the values.</summary>
    private static float SelectInPlace(Span<float> values, int k)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]))
            {
                values[i] = float.NegativeInfinity;
            }
        }

        QuickSelect.Select(values, k - 1, default(HighestFirst));
        return values[k - 1];
    }

    private readonly struct HighestFirst : QuickSelect.IOrder<float>
    {
        public bool Before(float a, float b) => a > b;
    }
}
