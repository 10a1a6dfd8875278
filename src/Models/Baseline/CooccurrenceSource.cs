namespace SessionRec.Models.Baseline;

using SessionRec.Models.Pipeline;

/// <summary>
/// Items that followed the session's recent items in other sessions. The most recent session item (or the
/// context item) weighs most; older ones less (1, 1/2, 1/3).
/// </summary>
public sealed class CooccurrenceSource(InteractionStatistics statistics, int lookback = 3) : ICandidateSource
{
    public const string SourceName = "cooccurrence";

    public string Name => SourceName;

    public void Collect(CandidateQuery query, int limit, List<Candidate> into)
    {
        var scores = new Dictionary<int, double>();
        var reasons = new Dictionary<int, int>();
        var anchors = new List<string>(lookback + 1);
        if (query.ContextItem is not null)
        {
            anchors.Add(query.ContextItem);
        }

        for (var i = query.SessionItems.Count - 1; i >= 0 && anchors.Count < lookback; i--)
        {
            if (!anchors.Contains(query.SessionItems[i]))
            {
                anchors.Add(query.SessionItems[i]);
            }
        }

        for (var a = 0; a < anchors.Count; a++)
        {
            if (!statistics.TryGetIndex(anchors[a], out var anchor))
            {
                continue;
            }

            var anchorWeight = 1.0 / (a + 1);
            foreach (var (item, weight) in statistics.After(anchor))
            {
                var add = anchorWeight * weight;
                scores.TryGetValue(item, out var current);
                scores[item] = current + add;
                if (!reasons.TryGetValue(item, out var why) || a < why)
                {
                    reasons[item] = a;
                }
            }
        }

        var top = TopK.Select(scores, limit);
        foreach (var (item, score) in top)
        {
            into.Add(new Candidate(statistics.IdOf(item), score, $"often chosen after {anchors[reasons[item]]}"));
        }
    }
}

/// <summary>The most popular items lately (time-decayed); the fallback for new users and sparse sessions.</summary>
/// <remarks>
/// The ranking only changes when the statistics do, so the top of it is kept between requests: a full scan of a
/// 12k-item catalogue costs ~60 µs, a cached list nothing. Concurrent readers are safe while nobody writes the
/// statistics (the cache is one immutable snapshot, swapped whole); writers need the statistics to themselves.
/// </remarks>
public sealed class PopularitySource(InteractionStatistics statistics, int cacheSize = 1_000) : ICandidateSource
{
    public const string SourceName = "popularity";

    private Top _top = new(-1, []);

    public string Name => SourceName;

    public void Collect(CandidateQuery query, int limit, List<Candidate> into)
    {
        var top = _top;
        if (top.Observations != statistics.Observations || (limit > top.Items.Count && top.Items.Count == cacheSize))
        {
            top = new Top(statistics.Observations, TopK.Select(statistics.ItemCount, statistics.Popularity, Math.Max(limit, cacheSize)));
            _top = top;
        }

        var count = Math.Min(limit, top.Items.Count);
        for (var i = 0; i < count; i++)
        {
            var (item, score) = top.Items[i];
            into.Add(new Candidate(statistics.IdOf(item), score, "popular lately"));
        }
    }

    private sealed record Top(long Observations, IReadOnlyList<(int Item, double Score)> Items);
}
