namespace SessionRec.Models.Ranking;

using SessionRec.Models.Baseline;
using SessionRec.Models.Serving;

/// <summary>
/// What the ranking stage looks up per item, computed once per statistics snapshot and item-vector index (a pass
/// over the catalogue) instead of per request: log(1 + interactions) per index row, and the index row of each item
/// the statistics know (-1: none), so the co-occurrence and item-kNN terms are array reads, not string lookups.
/// </summary>
public sealed class RankingTables
{
    private RankingTables(ItemVectorIndex index, InteractionStatistics statistics, float[] prior, int[] rowOf)
    {
        Index = index;
        Statistics = statistics;
        Prior = prior;
        RowOf = rowOf;
    }

    // One reference, swapped whole: a request reads the weights and their terms together.
    private volatile CachedTerms? _priorTerms;

    public ItemVectorIndex Index { get; }

    public InteractionStatistics Statistics { get; }

    /// <summary>log(1 + interactions) per index row (rows added after the tables were built are past its end).</summary>
    public float[] Prior { get; }

    /// <summary>
    /// popularity × prior per row, or <paramref name="newItem"/> where the prior is 0 (an item without
    /// interactions): the fusion's per-item terms, computed once per weights and shared by every request (a
    /// request adds them in one vector pass instead of a branch per item).
    /// </summary>
    public float[] PriorTerms(float popularity, float newItem)
    {
        if (_priorTerms is { } cached && cached.Popularity == popularity && cached.NewItem == newItem)
        {
            return cached.Terms;
        }

        var terms = new float[Prior.Length];
        for (var row = 0; row < terms.Length; row++)
        {
            // prior = log(1 + interactions) is 0 exactly for an item without interactions.
            terms[row] = Prior[row] == 0 ? newItem : popularity * Prior[row];
        }

        _priorTerms = new CachedTerms(popularity, newItem, terms);
        return terms;
    }

    /// <summary>The index row of each statistics item, -1 when the index has none.</summary>
    public int[] RowOf { get; }

    /// <summary>Whether these tables still describe <paramref name="index"/> (same rows) and <paramref name="statistics"/>.</summary>
    public bool Describe(ItemVectorIndex index, InteractionStatistics statistics) =>
        ReferenceEquals(Index, index) && ReferenceEquals(Statistics, statistics) && Prior.Length == index.Count;

    public static RankingTables Build(ItemVectorIndex index, InteractionStatistics statistics)
    {
        var prior = new float[index.Count];
        var rowOf = new int[statistics.ItemCount];
        for (var item = 0; item < statistics.ItemCount; item++)
        {
            rowOf[item] = index.TryGetRow(statistics.IdOf(item), out var row) && row < prior.Length ? row : -1;
            if (rowOf[item] >= 0)
            {
                prior[row] = MathF.Log(1 + statistics.Count(item));
            }
        }

        return new RankingTables(index, statistics, prior, rowOf);
    }

    private sealed record CachedTerms(float Popularity, float NewItem, float[] Terms);
}
