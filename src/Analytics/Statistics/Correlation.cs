namespace SessionRec.Analytics.Statistics;

/// <summary>Pearson and Spearman correlation, with percentile-bootstrap confidence intervals over pairs.</summary>
public static class Correlation
{
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        var n = x.Count;
        double mx = 0, my = 0;
        for (var i = 0; i < n; i++)
        {
            mx += x[i];
            my += y[i];
        }

        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = x[i] - mx;
            var dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        // A constant variable has no correlation with anything: undefined (NaN), never a value that reads as "none".
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
    }

    /// <summary>Spearman's rho: Pearson on ranks, ties given their average rank.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        return Pearson(Ranks(x), Ranks(y));
    }

    public static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            var average = ((start + end) / 2.0) + 1;
            for (var k = start; k <= end; k++)
            {
                ranks[order[k]] = average;
            }

            start = end + 1;
        }

        return ranks;
    }

    /// <summary>
    /// The statistic on the data and its 95% percentile-bootstrap interval, resampling pairs. Undefined (all NaN) when
    /// the statistic is undefined on the data; resamples where it is undefined (a constant column drawn) are left out.
    /// </summary>
    public static Estimate Bootstrap(
        IReadOnlyList<double> x, IReadOnlyList<double> y, Func<IReadOnlyList<double>, IReadOnlyList<double>, double> statistic,
        int replicates = 1000, int seed = 17)
    {
        Check(x, y);
        var random = new Random(seed);
        var n = x.Count;
        var bx = new double[n];
        var by = new double[n];
        var samples = new double[replicates];
        for (var b = 0; b < replicates; b++)
        {
            for (var i = 0; i < n; i++)
            {
                var j = random.Next(n);
                bx[i] = x[j];
                by[i] = y[j];
            }

            samples[b] = statistic(bx, by);
        }

        var value = statistic(x, y);
        var defined = samples.Where(v => !double.IsNaN(v)).ToArray();
        return double.IsNaN(value) || defined.Length == 0 ? Estimate.Undefined : Estimate.From(value, defined);
    }

    private static void Check(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"The two samples differ in size ({x.Count} vs {y.Count}).");
        }

        if (x.Count < 2)
        {
            throw new ArgumentException("A correlation needs at least two pairs.");
        }
    }
}

/// <summary>A point estimate with a 95% confidence interval.</summary>
public sealed record Estimate(double Value, double Low, double High)
{
    /// <summary>A statistic that cannot be computed on the data (e.g. a correlation with a constant column).</summary>
    public static readonly Estimate Undefined = new(double.NaN, double.NaN, double.NaN);

    public bool IsDefined => !double.IsNaN(Value);

    public static Estimate From(double value, double[] samples)
    {
        Array.Sort(samples);
        return new Estimate(value, Percentile(samples, 0.025), Percentile(samples, 0.975));
    }

    private static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var index = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(index);
        var hi = (int)Math.Ceiling(index);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (index - lo));
    }
}

/// <summary>Means and differences of means with percentile-bootstrap intervals (A/B readouts).</summary>
public static class MeanBootstrap
{
    public static Estimate Mean(IReadOnlyList<double> values, int replicates = 1000, int seed = 17)
    {
        if (values.Count == 0)
        {
            return new Estimate(double.NaN, double.NaN, double.NaN);
        }

        var random = new Random(seed);
        var samples = new double[replicates];
        for (var b = 0; b < replicates; b++)
        {
            samples[b] = Resample(values, random);
        }

        return Estimate.From(values.Average(), samples);
    }

    /// <summary>
    /// The mean of values that come in clusters (held-out targets of one session, one user), with a cluster
    /// bootstrap: whole clusters are resampled, so targets that move together are not counted as independent
    /// evidence (54 targets from 16 sessions are closer to 16 observations than to 54). <paramref name="clusters"/>
    /// gives each value's cluster.
    /// </summary>
    public static Estimate ClusteredMean(IReadOnlyList<double> values, IReadOnlyList<int> clusters, int replicates = 1000, int seed = 17)
    {
        if (values.Count != clusters.Count)
        {
            throw new ArgumentException($"{values.Count} values but {clusters.Count} cluster ids.");
        }

        if (values.Count == 0)
        {
            return Estimate.Undefined;
        }

        var groups = values.Select((v, i) => (Value: v, Cluster: clusters[i])).GroupBy(x => x.Cluster)
            .Select(g => (Sum: g.Sum(x => x.Value), Count: g.Count())).ToArray();
        var random = new Random(seed);
        var samples = new double[replicates];
        for (var b = 0; b < replicates; b++)
        {
            double sum = 0;
            long count = 0;
            for (var i = 0; i < groups.Length; i++)
            {
                var g = groups[random.Next(groups.Length)];
                sum += g.Sum;
                count += g.Count;
            }

            samples[b] = sum / count;
        }

        return Estimate.From(values.Average(), samples);
    }

    /// <summary>mean(b) − mean(a), each group resampled on its own.</summary>
    public static Estimate Difference(IReadOnlyList<double> a, IReadOnlyList<double> b, int replicates = 1000, int seed = 17)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return new Estimate(double.NaN, double.NaN, double.NaN);
        }

        var random = new Random(seed);
        var samples = new double[replicates];
        for (var r = 0; r < replicates; r++)
        {
            samples[r] = Resample(b, random) - Resample(a, random);
        }

        return Estimate.From(b.Average() - a.Average(), samples);
    }

    private static double Resample(IReadOnlyList<double> values, Random random)
    {
        var sum = 0.0;
        for (var i = 0; i < values.Count; i++)
        {
            sum += values[random.Next(values.Count)];
        }

        return sum / values.Count;
    }
}
