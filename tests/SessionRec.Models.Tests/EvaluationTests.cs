namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;
using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;
using SessionRec.TestSupport;

public sealed class EvaluationTests
{
    private static SequenceDataset Tiny(params int[][] sequences)
    {
        var items = Enumerable.Range(0, sequences.SelectMany(s => s).Max() + 1)
            .Select(i => new ImportItem($"i{i}", $"item {i}", null, [], new Dictionary<string, string>(), null)).ToList();
        return new SequenceDataset("tiny", items, [.. sequences.Select((_, u) => $"u{u}")], sequences);
    }

    [Fact]
    public void Ties_count_against_the_target_and_history_is_masked()
    {
        float[] scores = [5, 3, 3, 9, 1, 3];
        // Target 2 (score 3): item 0 (5) and item 3 (9) are above, items 1 and 5 tie; item 3 is history.
        Assert.Equal(3, Evaluator.Rank(scores, [3], 2));
        Assert.Equal(4, Evaluator.Rank(scores, [], 2));
        Assert.Equal(0, Evaluator.Rank(scores, [], 3));
        // A NaN score never ranks below the target.
        Assert.Equal(1, Evaluator.Rank([float.NaN, 1f], [], 1));
    }

    [Fact]
    public void Metrics_match_hand_computed_values()
    {
        var metrics = RankingMetrics.Compute([0, 1, 9, 19, 60], resamples: 200);
        Assert.Equal(0.6, metrics["HR@10"].Mean, 10);
        Assert.Equal((1 + 1 / Math.Log2(3) + 1 / Math.Log2(11)) / 5, metrics["NDCG@10"].Mean, 10);
        Assert.Equal((1 + 0.5 + 0.1) / 5, metrics["MRR@10"].Mean, 10);
        Assert.Equal(0.8, metrics["HR@20"].Mean, 10);
        Assert.Equal(1.0, metrics["HR@100"].Mean, 10);
        Assert.All(metrics.Values, m => Assert.InRange(m.Mean, m.Low, m.High));
        Assert.True(metrics["HR@10"].Low < metrics["HR@10"].High, "five users give a wide interval");
    }

    [Fact]
    public void Leave_one_out_drops_short_users_and_never_fits_on_the_target()
    {
        var split = LeaveOneOutSplit.Create(Tiny([0, 1, 2, 3], [4, 5], [1, 2, 5]));
        Assert.Equal(2, split.UserCount);
        Assert.Equal([0, 1], split.History(0, Phase.Validation));
        Assert.Equal(2, split.Target(0, Phase.Validation));
        Assert.Equal([0, 1, 2], split.History(0, Phase.Test));
        Assert.Equal(3, split.Target(0, Phase.Test));
        Assert.Equal([[0, 1, 2], [1, 2]], split.FitSequences(Phase.Test));
        Assert.DoesNotContain(split.FitSequences(Phase.Validation).SelectMany(s => s), i => i is 2 or 3);
    }

    [Fact]
    public void Held_out_items_never_reach_the_fitted_sequences()
    {
        var random = new Random(3);
        var sequences = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, 8).Select(_ => random.Next(200)).Distinct().ToArray()).Where(s => s.Length >= 3).ToArray();
        var split = LeaveOneOutSplit.Create(Tiny(sequences));
        var (heldOutSplit, users, heldOut) = split.HoldOutItems(0.1, seed: 1);
        Assert.NotEmpty(users);
        Assert.DoesNotContain(heldOutSplit.FitSequences(Phase.Test).SelectMany(s => s), heldOut.Contains);
        Assert.All(users, u => Assert.Contains(heldOutSplit.Target(u, Phase.Test), heldOut));
        Assert.All(users, u => Assert.DoesNotContain(heldOutSplit.History(u, Phase.Test), heldOut.Contains));
    }

    [Fact]
    public void Baselines_rank_the_obvious_next_item_first()
    {
        // Everyone who saw 0 then 1 saw 2 next; item 9 is the most popular but never follows 1.
        var sequences = Enumerable.Range(0, 20).Select(_ => new[] { 0, 1, 2 })
            .Concat(Enumerable.Range(0, 30).Select(_ => new[] { 9, 5, 6 }))
            .Concat(Enumerable.Range(0, 5).Select(_ => new[] { 7, 9 })).ToArray();
        foreach (ISequenceScorer scorer in new ISequenceScorer[]
        {
            new TransitionScorer(sequences, 10), new ItemKnnScorer(sequences, 10), new VsknnScorer(sequences, 10),
        })
        {
            var scores = new float[10];
            scorer.Score(-1, [0, 1], scores);
            Assert.True(Evaluator.Rank(scores, [0, 1], 2) == 0, $"{scorer.Name} ranks item 2 at {Evaluator.Rank(scores, [0, 1], 2)}");
        }

        var pop = new float[10];
        new PopularityScorer(sequences, 10).Score(-1, [0, 1], pop);
        Assert.Equal(0, Evaluator.Rank(pop, [0, 1], 9));
    }

    [Fact]
    public void Results_round_trip_through_json_and_render_every_row()
    {
        var results = new ResultsFile("recs", "tiny", RecsEvaluation.Protocol, ResultsFile.DescribeMachine(), "sessionrec eval recs", DateTimeOffset.UnixEpoch,
            [ResultsFile.Row("pop", "all", [0, 5, 30]), ResultsFile.Row("vsknn", "all", [0, 1, 2])]);
        var back = ResultsFile.FromJson(results.ToJson());
        Assert.Equal(results.Rows.Count, back.Rows.Count);
        Assert.Equal(results.Rows[1].Metrics["HR@10"], back.Rows[1].Metrics["HR@10"]);
        Assert.Contains("\"NDCG@20\"", results.ToJson(), StringComparison.Ordinal);
        var markdown = results.ToMarkdown();
        Assert.Contains("| vsknn | **1.0000**", markdown, StringComparison.Ordinal);
        Assert.Contains("| pop |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_paired_difference_has_a_narrower_interval_than_the_two_models_apart()
    {
        // Model B ranks every user's target one place higher than A: the difference is certain, while each model's
        // own interval is wide (the users differ a lot).
        var random = new Random(4);
        var a = Enumerable.Range(0, 400).Select(_ => random.Next(10, 60)).ToArray();
        var b = a.Select(r => r - 1).ToArray();
        var difference = RankingMetrics.Difference(b, a)["MRR@100"];
        var own = RankingMetrics.Compute(b)["MRR@100"];
        Assert.Equal(RankingMetrics.Compute(b)["MRR@100"].Mean - RankingMetrics.Compute(a)["MRR@100"].Mean, difference.Mean, 9);
        Assert.True(difference.Low > 0, $"the paired interval {difference.Low}–{difference.High} excludes 0");
        Assert.True(difference.High - difference.Low < (own.High - own.Low) / 3, "pairing removes what the users share");
        var same = RankingMetrics.Difference(a, a)["HR@20"];
        Assert.Equal((0.0, 0.0, 0.0), (same.Mean, same.Low, same.High));
    }

    /// <summary>Two session paths (0 → 1 → 2, and 4 → 3 → 0 → 1 → 2), with the pop and co-occurrence rows evaluated.</summary>
    private static (RecsEvaluation Evaluation, List<ResultRow> Baselines) TwoPathsWithBaselines()
    {
        var sequences = Enumerable.Range(0, 30).Select(u => u % 3 == 0 ? new[] { 0, 1, 2, 4 } : new[] { 4, 3, 0, 1, 2 }).ToArray();
        var evaluation = new RecsEvaluation(LeaveOneOutSplit.Create(Tiny(sequences)));
        var rows = FunctionCandidate.Baselines().Where(c => c.Name is "pop" or "cooccurrence")
            .SelectMany(c => evaluation.Run(c, newItems: false, progress: null, CancellationToken.None)).ToList();
        return (evaluation, rows);
    }

    [Fact]
    public void Every_metric_interval_and_each_difference_from_the_best_baseline_is_rendered()
    {
        var (_, baselines) = TwoPathsWithBaselines();
        var all = baselines.Where(r => r.Slice == "all").ToList();
        var results = new ResultsFile("recs", "tiny", RecsEvaluation.Protocol, ResultsFile.DescribeMachine(), "sessionrec eval recs", DateTimeOffset.UnixEpoch,
            [.. all, all[0] with
            {
                Model = "ranker",
                VsBestBaseline = new Dictionary<string, BaselineDifference> { ["HR@20"] = new("cooccurrence", 0.0125, -0.002, 0.031) },
            }]);
        var markdown = results.ToMarkdown();
        var intervals = markdown[markdown.IndexOf("95% bootstrap intervals", StringComparison.Ordinal)..];
        Assert.Contains("| NDCG@100 |", intervals, StringComparison.Ordinal);
        Assert.Contains("| *best baseline* | cooccurrence |", markdown, StringComparison.Ordinal);
        Assert.Contains("+0.0125 (−0.0020 to +0.0310)", markdown, StringComparison.Ordinal);
        Assert.Contains("vs_best_baseline", results.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_row_gets_its_difference_from_the_best_baseline_per_metric()
    {
        var (evaluation, baselines) = TwoPathsWithBaselines();
        var modelRow = evaluation.Run(new PopCandidateNamed("ranker"), newItems: false, progress: null, CancellationToken.None).First();
        var compared = evaluation.CompareWithBestBaseline(modelRow);
        Assert.NotNull(compared.VsBestBaseline);
        var hr = compared.VsBestBaseline["HR@10"];
        var best = baselines.Where(r => r.Slice == "all").MaxBy(r => r.Metrics["HR@10"])!;
        Assert.Equal(best.Model, hr.Baseline);
        Assert.Equal(Math.Round(modelRow.Metrics["HR@10"] - best.Metrics["HR@10"], 4), hr.Mean, 3);
        Assert.InRange(hr.Mean, hr.Low, hr.High);

        // Baselines are not compared, nor a row the evaluation did not rank.
        Assert.All(baselines, r => Assert.Null(evaluation.CompareWithBestBaseline(r).VsBestBaseline));
        var unranked = modelRow with { Model = "elsewhere" };
        Assert.Same(unranked, evaluation.CompareWithBestBaseline(unranked));
    }

    /// <summary>Popularity under another name: a model row that is not a baseline.</summary>
    private sealed class PopCandidateNamed(string name) : IRecommenderCandidate
    {
        public string Name => name;

        public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken) =>
            new PopularityScorer(split.FitSequences(phase), split.ItemCount);
    }

    [Fact]
    public void Beauty_split_reproduces_the_published_split_files()
    {
        var folder = SharedData.Find("amazon-beauty");
        Assert.SkipWhen(folder is null, "../shared/data/amazon-beauty is not on this machine.");
        var split = LeaveOneOutSplit.Create(SequenceDataset.From(DatasetReaders.ReadBeauty(folder)));
        var train = File.ReadAllLines(Path.Combine(folder, "DERIVED_loo_train.txt"));
        var test = File.ReadAllLines(Path.Combine(folder, "DERIVED_loo_test.txt"));
        Assert.Equal(train.Length, split.UserCount);
        for (var u = 0; u < split.UserCount; u++)
        {
            var expected = train[u].Split(' ')[1].Split(',').Select(id => int.Parse(id, System.Globalization.CultureInfo.InvariantCulture) - 1);
            Assert.Equal(expected, split.Train[u]);
            Assert.Equal(int.Parse(test[u].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) - 1, split.Test[u]);
        }
    }
}
