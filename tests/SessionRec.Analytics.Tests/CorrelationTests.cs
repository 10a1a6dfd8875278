namespace SessionRec.Analytics.Tests;

using SessionRec.Analytics.Statistics;

public class CorrelationTests
{
    [Fact]
    public void PearsonMatchesTheHandComputedValue()
    {
        // sxy = 5, sxx = 2, syy = 12.667: r = 5 / sqrt(25.333).
        Assert.Equal(5 / Math.Sqrt(2 * (38.0 / 3)), Correlation.Pearson([1, 2, 3], [2, 4, 7]), 9);
    }

    [Fact]
    public void SpearmanUsesAverageRanksForTies()
    {
        Assert.Equal([1, 2.5, 2.5, 4], Correlation.Ranks([1, 2, 2, 3]));
        Assert.Equal(0.8, Correlation.Spearman([1, 2, 3, 4], [1, 3, 2, 4]), 9);
        Assert.Equal(1, Correlation.Spearman([1, 2, 3], [2, 4, 7]), 9);
        Assert.Equal(-1, Correlation.Spearman([1, 2, 3], [9, 5, 1]), 9);
    }

    [Fact]
    public void AConstantSampleHasAnUndefinedCorrelation()
    {
        Assert.True(double.IsNaN(Correlation.Pearson([1, 1, 1], [1, 2, 3])));
        Assert.False(Correlation.Bootstrap([1, 1, 1], [1, 2, 3], Correlation.Pearson, 50).IsDefined);
    }

    [Fact]
    public void MismatchedOrTinySamplesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Correlation.Pearson([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => Correlation.Spearman([1], [1]));
    }

    [Fact]
    public void BootstrapIntervalsContainTheEstimate()
    {
        var random = new Random(5);
        var x = Enumerable.Range(0, 200).Select(_ => random.NextDouble()).ToList();
        var y = x.Select(v => v + (0.5 * random.NextDouble())).ToList();
        var estimate = Correlation.Bootstrap(x, y, Correlation.Pearson, 300);
        Assert.InRange(estimate.Value, estimate.Low, estimate.High);
        Assert.True(estimate.High - estimate.Low < 0.2);
        Assert.True(estimate.Low > 0.5);
    }

    [Fact]
    public void ADifferenceOfMeansSeesAClearGapAndNotANullOne()
    {
        var random = new Random(9);
        var a = Enumerable.Range(0, 300).Select(_ => random.NextDouble()).ToList();
        var b = Enumerable.Range(0, 300).Select(_ => random.NextDouble() + 0.3).ToList();
        var gap = MeanBootstrap.Difference(a, b, 500);
        Assert.True(gap.Low > 0.2 && gap.High < 0.4, $"{gap}");
        var none = MeanBootstrap.Difference(a, a.Select(v => v).ToList(), 500);
        Assert.True(none.Low < 0 && none.High > 0, $"{none}");
    }

    [Fact]
    public void An_undefined_correlation_is_null_in_json_and_na_in_markdown_never_a_bold_value()
    {
        var rows = new[]
        {
            new SessionRec.Analytics.Data.CorrelationRow("NUM", "no-clicks", 3, Estimate.Undefined, Estimate.Undefined),
            new SessionRec.Analytics.Data.CorrelationRow("sDCG", "no-clicks", 3, new Estimate(-0.2, -0.5, 0.1), new Estimate(-0.1, -0.4, 0.2)),
        };
        var file = SessionRec.Analytics.Data.SessionsResultsFile.FromCorrelations("d", "p", "c", rows);

        var json = file.ToJson();
        Assert.Contains("\"spearman\": null", json.ToLowerInvariant(), StringComparison.Ordinal);
        var back = SessionRec.Analytics.Data.SessionsResultsFile.FromJson(json);
        Assert.Null(back.Rows[0].Metrics["Spearman"]);
        Assert.Equal(-0.2, back.Rows[1].Metrics["Spearman"]);

        var markdown = file.ToMarkdown();
        Assert.Contains("| NUM | n/a | n/a | n/a | n/a |", markdown, StringComparison.Ordinal);
        Assert.Contains("| sDCG | **-0.2000** |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("0.0000", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cluster_bootstrap_widens_the_interval_when_values_move_together_within_a_cluster()
    {
        // 16 sessions of 4 targets each; a session's targets are all hits or all misses.
        var random = new Random(3);
        var sessionHits = Enumerable.Range(0, 16).Select(_ => random.NextDouble() < 0.5 ? 1.0 : 0.0).ToArray();
        var values = Enumerable.Range(0, 64).Select(i => sessionHits[i / 4]).ToList();
        var clusters = Enumerable.Range(0, 64).Select(i => i / 4).ToList();

        var naive = MeanBootstrap.Mean(values, 2000);
        var clustered = MeanBootstrap.ClusteredMean(values, clusters, 2000);

        Assert.Equal(naive.Value, clustered.Value, 12);
        Assert.True(clustered.High - clustered.Low > 1.5 * (naive.High - naive.Low), $"clustered {clustered}, naive {naive}");

        // One value per cluster: the same resampling as the plain bootstrap.
        var alone = MeanBootstrap.ClusteredMean(values, [.. Enumerable.Range(0, 64)], 2000);
        Assert.InRange(alone.High - alone.Low, 0.8 * (naive.High - naive.Low), 1.25 * (naive.High - naive.Low));
        Assert.False(MeanBootstrap.ClusteredMean([], [], 10).IsDefined);
    }
}
