namespace SessionRec.Models.Baseline;

/// <summary>Top-k selection with a bounded min-heap: O(n log k), no full sort.</summary>
public static class TopK
{
    public static List<(int Item, double Score)> Select(Dictionary<int, double> scores, int k)
    {
        var heap = new PriorityQueue<int, (double Score, int Item)>(Math.Min(k, scores.Count) + 1, Order.Instance);
        foreach (var (item, score) in scores)
        {
            Offer(heap, item, score, k);
        }

        return Drain(heap);
    }

    public static List<(int Item, double Score)> Select(int count, Func<int, double> score, int k)
    {
        var heap = new PriorityQueue<int, (double Score, int Item)>(Math.Min(k, count) + 1, Order.Instance);
        for (var i = 0; i < count; i++)
        {
            var s = score(i);
            if (s > 0)
            {
                Offer(heap, i, s, k);
            }
        }

        return Drain(heap);
    }

    /// <summary>The k highest of all scores, negative ones included (model logits); NaN scores are skipped.</summary>
    public static List<(int Item, double Score)> Select(ReadOnlySpan<float> scores, int k)
    {
        if (k <= 0)
        {
            return [];
        }

        // A min-heap of the best k so far, worst at the root, on two plain arrays: this runs once per request over
        // every scored item, where a PriorityQueue with a tuple comparer took ~2.5% of a model request's CPU (perf).
        // Items come in index order and a tie goes to the lower index, so once the heap is full only a strictly
        // higher score than the root's can enter: one comparison per item.
        var size = Math.Min(k, scores.Length);
        var heapScores = new float[size];
        var heapItems = new int[size];
        var count = 0;
        var width = System.Numerics.Vector<float>.Count;
        for (var i = 0; i < scores.Length; i++)
        {
            // A full heap: skip whole blocks that hold no score above the worst kept (NaN compares false, as skipped).
            if (count == size && (i % width) == 0 && i + width <= scores.Length
                && !System.Numerics.Vector.GreaterThanAny(new System.Numerics.Vector<float>(scores.Slice(i, width)), new System.Numerics.Vector<float>(heapScores[0])))
            {
                i += width - 1;
                continue;
            }

            var score = scores[i];
            if (float.IsNaN(score))
            {
                continue;
            }

            if (count < size)
            {
                SiftUp(heapScores, heapItems, count++, score, i);
            }
            else if (score > heapScores[0])
            {
                SiftDown(heapScores, heapItems, count, score, i);
            }
        }

        var result = new List<(int Item, double Score)>(count);
        for (var n = 0; n < count; n++)
        {
            result.Add((heapItems[n], heapScores[n]));
        }

        result.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
        return result;
    }

    /// <summary>Whether (score a, item a) ranks below (score b, item b): lower score, or the same score and a higher item.</summary>
    private static bool Worse(float scoreA, int itemA, float scoreB, int itemB) => scoreA < scoreB || (scoreA == scoreB && itemA > itemB);

    private static void SiftUp(float[] scores, int[] items, int at, float score, int item)
    {
        while (at > 0)
        {
            var parent = (at - 1) >> 1;
            if (!Worse(score, item, scores[parent], items[parent]))
            {
                break;
            }

            scores[at] = scores[parent];
            items[at] = items[parent];
            at = parent;
        }

        scores[at] = score;
        items[at] = item;
    }

    /// <summary>Replaces the root (the worst kept) with the new entry and restores the heap.</summary>
    private static void SiftDown(float[] scores, int[] items, int count, float score, int item)
    {
        var at = 0;
        while (true)
        {
            var child = (2 * at) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Worse(scores[child + 1], items[child + 1], scores[child], items[child]))
            {
                child++;
            }

            if (!Worse(scores[child], items[child], score, item))
            {
                break;
            }

            scores[at] = scores[child];
            items[at] = items[child];
            at = child;
        }

        scores[at] = score;
        items[at] = item;
    }

    private static void Offer(PriorityQueue<int, (double Score, int Item)> heap, int item, double score, int k)
    {
        if (k <= 0)
        {
            return;
        }

        if (heap.Count < k)
        {
            heap.Enqueue(item, (score, item));
        }
        else if (heap.TryPeek(out _, out var worst) && Order.Instance.Compare((score, item), worst) > 0)
        {
            heap.DequeueEnqueue(item, (score, item));
        }
    }

    private static List<(int Item, double Score)> Drain(PriorityQueue<int, (double Score, int Item)> heap)
    {
        var result = new List<(int Item, double Score)>(heap.Count);
        while (heap.TryDequeue(out var item, out var priority))
        {
            result.Add((item, priority.Score));
        }

        result.Reverse();
        return result;
    }

    // Higher score is better; ties go to the lower index so results are deterministic.
    private sealed class Order : IComparer<(double Score, int Item)>
    {
        public static readonly Order Instance = new();

        public int Compare((double Score, int Item) x, (double Score, int Item) y) =>
            x.Score != y.Score ? x.Score.CompareTo(y.Score) : y.Item.CompareTo(x.Item);
    }
}
