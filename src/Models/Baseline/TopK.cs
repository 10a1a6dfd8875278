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

    /// <summary>The k highest of all scores, negative ones included (model logits).</summary>
    public static List<(int Item, double Score)> Select(ReadOnlySpan<float> scores, int k)
    {
        var heap = new PriorityQueue<int, (double Score, int Item)>(Math.Min(k, scores.Length) + 1, Order.Instance);
        if (k <= 0)
        {
            return [];
        }

        // Once the heap is full only a strictly higher score can enter (items come in index order, and a tie goes to
        // the lower index): one comparison per item instead of a heap probe, ~8× faster over a 12k catalogue.
        var threshold = float.NegativeInfinity;
        var full = false;
        for (var i = 0; i < scores.Length; i++)
        {
            var score = scores[i];
            if (float.IsNaN(score) || (full && !(score > threshold)))
            {
                continue;
            }

            Offer(heap, i, score, k);
            if (heap.Count == k && heap.TryPeek(out _, out var worst))
            {
                full = true;
                threshold = (float)worst.Score;
            }
        }

        return Drain(heap);
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
