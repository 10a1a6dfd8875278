namespace SessionRec.Silo.Replicas;

using System.Collections.Concurrent;
using SessionRec.Abstractions.Catalogue;

/// <summary>
/// A replica's newest available items (newest first, at most <see cref="Capacity"/>), kept by the replica's writer as
/// it loads and applies changes, so that the new-in-catalogue fallback reads a short list instead of scanning the
/// catalogue on a request. Newest: the latest <see cref="CatalogueItem.UpdatedAt"/>, ties to the higher id (ordinal).
/// </summary>
public static class NewestItems
{
    /// <summary>How many are kept: more than any request asks a fallback for (k ≤ 100 asks for at most a few hundred).</summary>
    public const int Capacity = 1_000;

    /// <summary>From every item (whole loads and restores): one pass with a bounded heap, O(catalogue) on the writer.</summary>
    public static CatalogueItem[] Of(ConcurrentDictionary<string, CatalogueItem> items, int capacity = Capacity)
    {
        if (capacity <= 0)
        {
            return [];
        }

        var oldestFirst = new PriorityQueue<CatalogueItem, CatalogueItem>(capacity, NewerLast.Instance);

        // The dictionary's own enumerator: no copy of the catalogue (.Values would allocate one).
        foreach (var (_, item) in items)
        {
            if (!item.Available)
            {
                continue;
            }

            if (oldestFirst.Count < capacity)
            {
                oldestFirst.Enqueue(item, item);
            }
            else if (NewerLast.Instance.Compare(item, oldestFirst.Peek()) > 0)
            {
                // Most items of a large catalogue are older than the list's oldest: one comparison, no heap work.
                oldestFirst.DequeueEnqueue(item, item);
            }
        }

        var newest = new CatalogueItem[oldestFirst.Count];
        for (var i = newest.Length - 1; i >= 0; i--)
        {
            newest[i] = oldestFirst.Dequeue();
        }

        return newest;
    }

    /// <summary>
    /// The list after changes (<paramref name="present"/>: the changed items as they are now; <paramref name="removed"/>:
    /// deleted ids): without the changed ids' old entries, with the changed items that are available. Null when items
    /// outside a full list might now belong in it (an entry left and what replaced it is not newer than the list's
    /// oldest was): the caller rebuilds with <see cref="Of"/>.
    /// </summary>
    public static CatalogueItem[]? After(CatalogueItem[] current, IReadOnlyList<CatalogueItem> present, IReadOnlyList<string> removed, int capacity = Capacity)
    {
        if (present.Count == 0 && removed.Count == 0)
        {
            return current;
        }

        var changed = new HashSet<string>(removed, StringComparer.Ordinal);
        foreach (var item in present)
        {
            changed.Add(item.Id);
        }

        var next = new List<CatalogueItem>(current.Length + present.Count);
        foreach (var item in current)
        {
            if (!changed.Contains(item.Id))
            {
                next.Add(item);
            }
        }

        foreach (var item in present)
        {
            if (item.Available)
            {
                next.Add(item);
            }
        }

        next.Sort(static (a, b) => NewerLast.Instance.Compare(b, a));
        if (next.Count > capacity)
        {
            next.RemoveRange(capacity, next.Count - capacity);
        }

        // Items outside a full list are all older than its oldest entry: the result is exact when it is full and its
        // last entry is at least that old one; otherwise one of them may belong.
        if (current.Length >= capacity && (next.Count < capacity || NewerLast.Instance.Compare(next[^1], current[^1]) < 0))
        {
            return null;
        }

        return [.. next];
    }

    /// <summary>Orders older first: by <see cref="CatalogueItem.UpdatedAt"/>, then by id (ordinal).</summary>
    private sealed class NewerLast : IComparer<CatalogueItem>
    {
        public static readonly NewerLast Instance = new();

        public int Compare(CatalogueItem? x, CatalogueItem? y)
        {
            var byTime = x!.UpdatedAt.UtcTicks.CompareTo(y!.UpdatedAt.UtcTicks);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Id, y.Id);
        }
    }
}
