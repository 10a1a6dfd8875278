namespace SessionRec.Models.Evaluation;

/// <summary>A metric's mean over users and its 95% bootstrap interval.</summary>
public sealed record MetricValue(double Mean, double Low, double High);

/// <summary>HR, NDCG and MRR at cut-offs from 0-based target ranks (one relevant item per user).</summary>
public static class RankingMetrics
{
    public static readonly int[] Cutoffs = [10, 20, 50, 100];

    public static double Hit(int rank, int k) => rank < k ? 1 : 0;

    public static double Ndcg(int rank, int k) => rank < k ? 1 / Math.Log2(rank + 2) : 0;

    public static double Mrr(int rank, int k) => rank < k ? 1.0 / (rank + 1) : 0;

    /// <summary>
    /// Every metric at every cut-off, keyed "HR@10", "NDCG@10", "MRR@10", ..., with percentile intervals from
    /// <paramref name="resamples"/> bootstrap resamples of the users (seeded: the same ranks give the same table).
    /// </summary>
    public static IReadOnlyDictionary<string, MetricValue> Compute(IReadOnlyList<int> ranks, int resamples = 1000, int seed = 17)
    {
        var result = new Dictionary<string, MetricValue>();
        if (ranks.Count == 0)
        {
            return result;
        }

        var random = new Random(seed);
        var samples = new int[resamples][];
        for (var b = 0; b < resamples; b++)
        {
            samples[b] = new int[ranks.Count];
            for (var n = 0; n < ranks.Count; n++)
            {
                samples[b][n] = random.Next(ranks.Count);
            }
        }

        foreach (var k in Cutoffs)
        {
            foreach (var (name, metric) in new (string, Func<int, int, double>)[] { ("HR", Hit), ("NDCG", Ndcg), ("MRR", Mrr) })
            {
                var values = ranks.Select(r => metric(r, k)).ToArray();
                var means = new double[resamples];
                for (var b = 0; b < resamples; b++)
                {
                    double sum = 0;
                    foreach (var n in samples[b])
                    {
                        sum += values[n];
                    }

                    means[b] = sum / values.Length;
                }

                Array.Sort(means);
                result[$"{name}@{k}"] = new MetricValue(
                    values.Average(),
                    means[(int)Math.Floor(0.025 * (resamples - 1))],
                    means[(int)Math.Ceiling(0.975 * (resamples - 1))]);
            }
        }

        return result;
    }
}
