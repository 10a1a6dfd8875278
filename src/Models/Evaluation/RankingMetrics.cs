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
    public static IReadOnlyDictionary<string, MetricValue> Compute(IReadOnlyList<int> ranks, int resamples = 1000, int seed = 17) =>
        Bootstrap(ranks.Count, (metric, n) => metric(ranks[n]), resamples, seed);

    /// <summary>
    /// Every metric of <paramref name="ranks"/> less the same metric of <paramref name="baseline"/> (the same users, in
    /// the same order), with a paired bootstrap interval: each resample draws users, and both models are scored on
    /// the same draw, so what the users share does not widen the interval of the difference.
    /// </summary>
    public static IReadOnlyDictionary<string, MetricValue> Difference(IReadOnlyList<int> ranks, IReadOnlyList<int> baseline, int resamples = 1000, int seed = 17)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(baseline.Count, ranks.Count);
        return Bootstrap(ranks.Count, (metric, n) => metric(ranks[n]) - metric(baseline[n]), resamples, seed);
    }

    private static Dictionary<string, MetricValue> Bootstrap(int users, Func<Func<int, double>, int, double> value, int resamples, int seed)
    {
        var result = new Dictionary<string, MetricValue>();
        if (users == 0)
        {
            return result;
        }

        var random = new Random(seed);
        var samples = new int[resamples][];
        for (var b = 0; b < resamples; b++)
        {
            samples[b] = new int[users];
            for (var n = 0; n < users; n++)
            {
                samples[b][n] = random.Next(users);
            }
        }

        foreach (var k in Cutoffs)
        {
            foreach (var (name, metric) in new (string, Func<int, int, double>)[] { ("HR", Hit), ("NDCG", Ndcg), ("MRR", Mrr) })
            {
                var values = new double[users];
                for (var n = 0; n < users; n++)
                {
                    values[n] = value(rank => metric(rank, k), n);
                }

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
