namespace SessionRec.Silo.ClickLog;

using SessionRec.Abstractions.ClickLog;

/// <summary>
/// Merges pages of a log's partitions into one page in arrival order (by the time each record was received; ties by
/// partition), each partition's records kept in sequence order. A partition's page that has more behind it bounds
/// the merge: once it runs out, the merge stops, since its next records may have arrived before what is left of the
/// others. Followers that keep a clock (open sessions closing by the log's time) so see every partition move
/// together.
/// </summary>
public static class LogMerge
{
    public static ClickLogPage Merge(IReadOnlyList<(List<ClickLogRecord> Records, bool More)> pages, int limit)
    {
        var next = new int[pages.Count];
        var merged = new List<ClickLogRecord>(Math.Min(limit, pages.Sum(p => p.Records.Count)));
        var stopped = false;
        while (merged.Count < limit)
        {
            var best = -1;
            for (var p = 0; p < pages.Count; p++)
            {
                if (next[p] == pages[p].Records.Count)
                {
                    if (pages[p].More)
                    {
                        stopped = true;
                        break;
                    }

                    continue;
                }

                if (best < 0 || pages[p].Records[next[p]].Event.ReceivedAt < pages[best].Records[next[best]].Event.ReceivedAt)
                {
                    best = p;
                }
            }

            if (stopped || best < 0)
            {
                break;
            }

            merged.Add(pages[best].Records[next[best]++]);
        }

        var more = false;
        for (var p = 0; p < pages.Count; p++)
        {
            more |= pages[p].More || next[p] < pages[p].Records.Count;
        }

        return new ClickLogPage(merged, more);
    }
}
