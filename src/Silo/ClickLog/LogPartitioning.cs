namespace SessionRec.Silo.ClickLog;

/// <summary>Which partition of a tenant's log holds a user's records: a stable hash of the user id, the same in every process and version.</summary>
public static class LogPartitioning
{
    /// <summary>FNV-1a (32-bit) of the id's UTF-16 code units, modulo the partition count.</summary>
    public static int Of(string userId, int partitions)
    {
        if (partitions == 1)
        {
            return 0;
        }

        var hash = 2166136261u;
        foreach (var c in userId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }

    /// <summary>The items of each partition that has any, in their order, with their indexes in <paramref name="items"/>.</summary>
    public static IEnumerable<(int Partition, List<T> Items, List<int> Indexes)> Split<T>(IReadOnlyList<T> items, Func<T, string> userId, int partitions)
    {
        var parts = new (List<T> Items, List<int> Indexes)?[partitions];
        for (var i = 0; i < items.Count; i++)
        {
            var p = Of(userId(items[i]), partitions);
            var part = parts[p] ??= ([], []);
            part.Items.Add(items[i]);
            part.Indexes.Add(i);
        }

        for (var p = 0; p < partitions; p++)
        {
            if (parts[p] is { } part)
            {
                yield return (p, part.Items, part.Indexes);
            }
        }
    }
}
