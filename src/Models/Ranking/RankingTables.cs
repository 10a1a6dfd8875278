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

    public ItemVectorIndex Index { get; }

    public InteractionStatistics Statistics { get; }

    /// <summary>log(1 + interactions) per index row (rows added after the tables were built are past its end).</summary>
    public float[] Prior { get; }

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
}
