namespace SessionRec.Cli.Tests;

using System.Globalization;
using System.Text;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Serving;
using SessionRec.TestSupport;

/// <summary>`sessionrec train` and `sessionrec eval recs` on RecBole atomic files, as a held-out data set would come.</summary>
public sealed class TrainAndEvalCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sessionrec-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The synthetic catalogue as RecBole .inter (with timestamps) and .item files.</summary>
    private (string Inter, string Item) WriteRecBole()
    {
        var data = SyntheticData.Create();
        var item = new StringBuilder("item_id:token\ttitle:token_seq\tbrand:token\tcategories:token_seq\n");
        foreach (var i in data.Items)
        {
            item.Append(CultureInfo.InvariantCulture, $"{i.Id}\t{i.Title}\t{i.Brand}\t{string.Join(',', i.Categories.Select(c => c.Replace(' ', '_')))}\n");
        }

        var inter = new StringBuilder("user_id:token\titem_id:token\ttimestamp:float\n");
        for (var u = 0; u < data.Sequences.Count; u++)
        {
            for (var p = 0; p < data.Sequences[u].Length; p++)
            {
                inter.Append(CultureInfo.InvariantCulture, $"{data.Users[u]}\t{data.Items[data.Sequences[u][p]].Id}\t{1_700_000_000 + (u * 1000) + p}\n");
            }
        }

        var interPath = Path.Combine(_dir, "synthetic.inter");
        var itemPath = Path.Combine(_dir, "synthetic.item");
        File.WriteAllText(interPath, inter.ToString());
        File.WriteAllText(itemPath, item.ToString());
        return (interPath, itemPath);
    }

    [Fact]
    public void A_failing_row_leaves_the_others_in_the_results_and_the_exit_code_says_so()
    {
        var (inter, item) = WriteRecBole();
        var json = Path.Combine(_dir, "recs.json");
        var md = Path.Combine(_dir, "recs.md");
        var baselines = FunctionCandidate.Baselines();
        IRecommenderCandidate[] candidates =
        [
            baselines.Single(c => c.Name == "pop"),
            new FunctionCandidate("crashes", (_, _) => throw new InvalidOperationException("native error")),
            baselines.Single(c => c.Name == "cooccurrence"),
        ];
        var code = Evaluate.EvalRecsCommand.Run(
            Models.Data.DatasetReaders.ReadRecBole(inter, item), candidates, "test", json, md, _ => false, TestContext.Current.CancellationToken);

        Assert.Equal(1, code);
        var results = ResultsFile.FromJson(File.ReadAllText(json));
        Assert.Equal(["pop", "cooccurrence"], results.Rows.Where(r => r.Slice == "all").Select(r => r.Model));
        Assert.DoesNotContain(results.Rows, r => r.Model == "crashes");
        Assert.Contains("| cooccurrence |", File.ReadAllText(md));
    }

    [Fact]
    public async Task Eval_recs_writes_every_row_and_slice_as_json_and_markdown()
    {
        var (inter, item) = WriteRecBole();
        var json = Path.Combine(_dir, "recs.json");
        var md = Path.Combine(_dir, "recs.md");
        var code = await Program.RunAsync(
            ["eval", "recs", "recbole", inter, "--item", item, "--models", "pop,cooccurrence,itemknn,vsknn,metadata-transformer", "--epochs", "3", "--dim", "16", "--json", json, "--md", md],
            TestContext.Current.CancellationToken);
        Assert.Equal(0, code);

        var results = ResultsFile.FromJson(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal("recs", results.Kind);
        Assert.Equal(["pop", "cooccurrence", "itemknn", "vsknn", "metadata-transformer"], results.Rows.Where(r => r.Slice == "all").Select(r => r.Model));
        Assert.Equal(["all", "cold", "new-items", "new-items-others"], results.Rows.Where(r => r.Model == "metadata-transformer").Select(r => r.Slice));
        Assert.All(results.Rows.Where(r => r.Model != "metadata-transformer" && r.Slice == "new-items"), r => Assert.Equal(0, r.Metrics["HR@50"]));
        var pop = results.Rows.Single(r => r.Model == "pop" && r.Slice == "all");
        var vsknn = results.Rows.Single(r => r.Model == "vsknn" && r.Slice == "all");
        Assert.True(vsknn.Metrics["HR@10"] > pop.Metrics["HR@10"], "session kNN reads the users' category walks; popularity cannot");
        Assert.Contains("| metadata-transformer |", await File.ReadAllTextAsync(md, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_writes_a_loadable_model_folder_with_its_metrics()
    {
        var (inter, item) = WriteRecBole();
        var models = Path.Combine(_dir, "models");
        var code = await Program.RunAsync(["train", "recbole", inter, "--item", item, "--out", models, "--version", "t1", "--epochs", "3", "--dim", "16", "--item-vectors", "hybrid", "--residual-min-count", "0"], TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        using var model = OnnxRecommenderModel.Load(Path.Combine(models, "t1"));
        Assert.Equal("t1", model.Version);
        Assert.Equal(300, model.Manifest.ResidualItemIds!.Length);
        Assert.Equal(("hybrid", "m2trec+id-residual"), (model.Manifest.ItemVectors, model.Manifest.Kind));
        Assert.Equal(300, model.Manifest.Coverage!.Items);
        Assert.Equal(3, model.Manifest.Metrics["epochs"]);
        Assert.InRange(model.Manifest.Metrics["test_ranker_HR@20"], 0.0, 1.0);

        // The manifest says how many test users its metrics were measured on.
        Assert.InRange(model.Manifest.Metrics["test_users"], 1, model.Manifest.Training.Users);
        Assert.NotNull(model.Manifest.Fusion);
        Assert.StartsWith("sha256:", model.Manifest.Training.Fingerprint, StringComparison.Ordinal);

        // By default the residuals are kept only if they beat the pure model on validation; the manifest says which
        // won and the residual file goes with the choice.
        Assert.Equal(0, await Program.RunAsync(["train", "recbole", inter, "--item", item, "--out", models, "--version", "t2", "--epochs", "3", "--dim", "16"], TestContext.Current.CancellationToken));
        using (var chosen = OnnxRecommenderModel.Load(Path.Combine(models, "t2")))
        {
            Assert.Contains(chosen.Manifest.ItemVectors, new[] { "metadata", "hybrid" });
            Assert.Equal(chosen.Manifest.ItemVectors == "hybrid", chosen.Manifest.ResidualItemIds is { Length: > 0 });
        }

        // Versions are immutable.
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => Program.RunAsync(["train", "recbole", inter, "--item", item, "--out", models, "--version", "t1", "--epochs", "1", "--dim", "16"], TestContext.Current.CancellationToken));
        Assert.Contains("immutable", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Train_with_rounds_writes_a_round_encoder_and_eval_recs_runs_the_multiround_rows()
    {
        var (inter, item) = WriteRecBole();
        var models = Path.Combine(_dir, "models");
        var code = await Program.RunAsync(["train", "recbole", inter, "--item", item, "--out", models, "--version", "r1", "--epochs", "2", "--dim", "16", "--rounds", "3", "--per-round", "5", "--round-epochs", "2"], TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        using (var model = OnnxRecommenderModel.Load(Path.Combine(models, "r1")))
        {
            Assert.Equal(new MultiRoundSettings(3, 5), model.MultiRound);
            Assert.InRange(model.Manifest.Metrics["test_model_multiround_HR@50"], 0.0, 1.0);
            Assert.InRange(model.Manifest.Metrics["test_ranker_multiround_HR@50"], 0.0, 1.0);
            Assert.True(model.Manifest.Metrics.ContainsKey("validation_multiround_HR@50"));
            Assert.Contains(model.Manifest.Fusion!.MultiRound, SessionRec.Training.Evaluation.MultiRoundRankerCandidate.MembershipGrid);
        }

        var json = Path.Combine(_dir, "rounds.json");
        var md = Path.Combine(_dir, "rounds.md");
        code = await Program.RunAsync(
            ["eval", "recs", "recbole", inter, "--item", item, "--models", "metadata-transformer,metadata-transformer+multiround,ranker+multiround", "--epochs", "2", "--dim", "16", "--rounds", "3", "--per-round", "5", "--round-epochs", "1", "--no-new-items", "--json", json, "--md", md],
            TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        var results = ResultsFile.FromJson(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal(["metadata-transformer", "metadata-transformer+multiround", "ranker+multiround"], results.Rows.Where(r => r.Slice == "all").Select(r => r.Model));
        var multiround = results.Rows.Single(r => r.Model == "metadata-transformer+multiround" && r.Slice == "all");

        // The list is 3 rounds of 5: nothing past position 15 can hit.
        Assert.Equal(multiround.Metrics["HR@20"], multiround.Metrics["HR@100"]);
        Assert.All(results.Rows.Where(r => r.Slice == "all"), r => Assert.InRange(r.Metrics[RecsEvaluation.DiversityMetric], 1.0, 100.0));
        Assert.Contains(RecsEvaluation.DiversityMetric, await File.ReadAllTextAsync(md, TestContext.Current.CancellationToken), StringComparison.Ordinal);

        var bad = await Assert.ThrowsAsync<ArgumentException>(() => Program.RunAsync(["eval", "recs", "recbole", inter, "--item", item, "--rounds", "0"], TestContext.Current.CancellationToken));
        Assert.Contains("--rounds", bad.Message, StringComparison.Ordinal);
    }
}
