namespace SessionRec.Cli.Tests;

using SessionRec.Models.Evaluation;
using SessionRec.TestSupport;

/// <summary>`sessionrec eval suggestions` on a tab-separated query log, as a held-out data set would come.</summary>
public sealed class EvalSuggestionsCommandTests
{
    [Fact]
    public async Task AQueryLogGivesTheSuggestionsTableForEveryPrefixLength()
    {
        using var dir = new TempFolder();
        var log = Path.Combine(dir.Path, "log.tsv");
        var start = new DateTime(2026, 1, 1, 8, 0, 0, DateTimeKind.Utc);
        var topics = new[] { ("red lipstick", "matte red lipstick"), ("nail polish", "gel nail polish"), ("face cream", "night face cream") };
        var lines = new List<string>();
        for (var u = 0; u < 60; u++)
        {
            var (first, second) = topics[u % 3];
            var at = start.AddHours(u);
            lines.Add($"user{u}\t{at:yyMMddHHmmss}\t{first}");
            lines.Add($"user{u}\t{at.AddMinutes(2):yyMMddHHmmss}\t{second}");
        }

        await File.WriteAllLinesAsync(log, lines, TestContext.Current.CancellationToken);
        var json = Path.Combine(dir.Path, "s.json");
        var code = await Program.RunAsync(["eval", "suggestions", "--log", log, "--json", json, "--replicates", "50", "--dataset", "synthetic"], TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        var results = ResultsFile.FromJson(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal(("suggestions", "synthetic"), (results.Kind, results.Dataset));
        Assert.Equal(["prefix-0", "prefix-1", "prefix-2", "prefix-3"], results.Rows.Select(r => r.Slice).Distinct());
        Assert.Equal(12, results.Rows.Count);
        // Every held-out second query was seen in training and follows the first: the session context finds it.
        var personal = results.Rows.Single(r => r.Model == "suggest-personal" && r.Slice == "prefix-0");
        Assert.Equal(12, personal.Users);
        Assert.Equal(1, personal.Metrics["Success@10"], 9);
        Assert.Equal(1, personal.Metrics["Ceiling"], 9);
        Assert.True(personal.Metrics["MRR@10"] > results.Rows.Single(r => r.Model == "mpc" && r.Slice == "prefix-0").Metrics["MRR@10"]);
        Assert.Contains("vs mpc", personal.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_log_whose_split_leaves_no_target_fails_and_writes_no_numbers()
    {
        using var dir = new TempFolder();
        var log = Path.Combine(dir.Path, "log.tsv");
        var start = new DateTime(2026, 1, 1, 8, 0, 0, DateTimeKind.Utc);

        // Every session is one query: no held-out session has a next query.
        await File.WriteAllLinesAsync(log, Enumerable.Range(0, 40).Select(u => $"user{u}\t{start.AddHours(u):yyMMddHHmmss}\tquery {u % 5}"), TestContext.Current.CancellationToken);
        var json = Path.Combine(dir.Path, "s.json");
        var code = await Program.RunAsync(["eval", "suggestions", "--log", log, "--json", json, "--replicates", "50"], TestContext.Current.CancellationToken);

        Assert.NotEqual(0, code);
        Assert.False(File.Exists(json));
    }

    [Fact]
    public async Task A_log_whose_late_sessions_are_single_queries_evaluates_with_the_interleaved_split()
    {
        using var dir = new TempFolder();
        var log = Path.Combine(dir.Path, "log.tsv");
        var start = new DateTime(2026, 1, 1, 8, 0, 0, DateTimeKind.Utc);
        var lines = new List<string>();
        for (var u = 0; u < 50; u++)
        {
            var at = start.AddHours(u);
            lines.Add($"user{u}\t{at:yyMMddHHmmss}\tface cream");
            if (u < 35)
            {
                lines.Add($"user{u}\t{at.AddMinutes(2):yyMMddHHmmss}\tnight face cream"); // only early sessions continue
            }
        }

        await File.WriteAllLinesAsync(log, lines, TestContext.Current.CancellationToken);
        var json = Path.Combine(dir.Path, "s.json");
        Assert.NotEqual(0, await Program.RunAsync(["eval", "suggestions", "--log", log, "--json", json, "--replicates", "50"], TestContext.Current.CancellationToken));
        Assert.Equal(0, await Program.RunAsync(["eval", "suggestions", "--log", log, "--json", json, "--replicates", "50", "--split", "interleaved"], TestContext.Current.CancellationToken));

        var results = ResultsFile.FromJson(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Contains("split interleaved", results.Protocol, StringComparison.Ordinal);
        Assert.Contains("resampling held-out sessions", results.Protocol, StringComparison.Ordinal);
        Assert.Equal(7, results.Rows.Single(r => r.Model == "suggest-personal" && r.Slice == "prefix-0").Users); // sessions 4, 9, ..., 34
    }
}
