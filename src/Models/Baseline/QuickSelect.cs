namespace SessionRec.Models.Baseline;

/// <summary>
/// Selection in place (Hoare's partition around a median of three): the value a sort would put at one position, in
/// linear time on average, for the ranking's thresholds and top lists. The order is a struct, so comparisons inline.
/// </summary>
public static class QuickSelect
{
    /// <summary>An order: whether <paramref name="a"/> comes before <paramref name="b"/>.</summary>
    public interface IOrder<T>
    {
        bool Before(T a, T b);
    }

    /// <summary>
    /// Reorders <paramref name="values"/> so that position <paramref name="target"/> holds what a sort in this order
    /// would put there, nothing after it belonging before it and nothing before it after it. A run of bad pivots
    /// (64 rounds) ends in a sort of the part still open.
    /// </summary>
    public static void Select<T, TOrder>(Span<T> values, int target, TOrder order)
        where TOrder : struct, IOrder<T>
    {
        var (lo, hi) = (0, values.Length - 1);
        for (var rounds = 0; lo < hi; rounds++)
        {
            if (rounds == 64)
            {
                values[lo..(hi + 1)].Sort((a, b) => order.Before(a, b) ? -1 : order.Before(b, a) ? 1 : 0);
                return;
            }

            var pivot = Median(values[lo], values[lo + ((hi - lo) >> 1)], values[hi], order);
            var (i, j) = (lo, hi);
            while (i <= j)
            {
                while (order.Before(values[i], pivot))
                {
                    i++;
                }

                while (order.Before(pivot, values[j]))
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            // values[lo..j] do not come after the pivot, values[i..hi] not before it; between them, the pivot's equals.
            if (target <= j)
            {
                hi = j;
            }
            else if (target >= i)
            {
                lo = i;
            }
            else
            {
                return;
            }
        }
    }

    private static T Median<T, TOrder>(T a, T b, T c, TOrder order)
        where TOrder : struct, IOrder<T>
    {
        if (order.Before(b, a))
        {
            (a, b) = (b, a);
        }

        // a ≤ b: the median is b unless c comes before it, then the later of a and c.
        return !order.Before(c, b) ? b : order.Before(c, a) ? a : c;
    }
}
