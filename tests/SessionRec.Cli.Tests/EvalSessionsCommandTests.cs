namespace SessionRec.Cli.Tests;

using System.Text.Json;
using SessionRec.Analytics.Data;
using SessionRec.Cli.Export;
using SessionRec.Silo.ClickLog;
using SessionRec.TestSupport;

/// <summary>`sessionrec eval sessions` on the three kinds of input it accepts.</summary>
public sealed class EvalSessionsCommandTests
{
    private static readonly DateTime T0 = new(2026, 11, 20, 10, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task AClickLogExportGivesPerModelAggregatesAndTheABReadout()
    {
        using var dir = new TempFolder();
        var log = Path.Combine(dir.Path, "log.ndjson");
        var rows = new List<ClickLogRow>();
        long sequence = 0;
        for (var u = 0; u < 30; u++)
        {
            var model = u % 2 == 0 ? "a" : "b";
            var at = T0.AddMinutes(u);
            rows.Add(new ClickLogRow { Sequence = ++sequence, EventId = $"imp-{u}", UserId = $"u{u}", Type = "impression", RequestId = $"r{u}", Timestamp = at, ReceivedAt = at, Surface = "recommendations", Shown = ["x", "y", "z"], ModelVersion = model });
            if (model == "b" || u % 3 == 0)
            {
                rows.Add(new ClickLogRow { Sequence = ++sequence, EventId = $"c-{u}", UserId = $"u{u}", Type = "click", ItemId = "x", RequestId = $"r{u}", Position = 1, Timestamp = at.AddSeconds(5), ReceivedAt = at });
            }
        }

        await File.WriteAllLinesAsync(log, rows.Select(r => JsonSerializer.Serialize(r)), TestContext.Current.CancellationToken);
        var output = Path.Combine(dir.Path, "out.json");
        var code = await Program.RunAsync(["eval", "sessions", "--log", log, "--compare", "a,b", "--json", output], TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        var models = JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken)).RootElement.EnumerateArray()
            .ToDictionary(m => m.GetProperty("model_version").GetString()!);
        Assert.Equal(15, models["a"].GetProperty("sessions").GetInt32());
        Assert.Equal(1, models["b"].GetProperty("ctr").GetDouble(), 9);
        Assert.Equal(5 / 15.0, models["a"].GetProperty("ctr").GetDouble(), 9);
    }

    [Fact]
    public async Task LabelledDataGivesACorrelationTableInTheResultsFormat()
    {
        using var dir = new TempFolder();
        var tsv = Path.Combine(dir.Path, "fsd_sample.tsv");
        var random = new Random(4);
        var lines = new List<string>();
        for (var q = 0; q < 120; q++)
        {
            var useful = Enumerable.Range(0, 10).Select(_ => random.Next(5) == 0 ? random.Next(1, 5) : 0).ToArray();
            var clicks = useful.Select(u => u > 1 ? 1 : 0).ToArray();
            // Satisfaction follows the usefulness at the top, with noise: every metric should see some of it.
            var satisfaction = Math.Clamp((useful[0] + useful[1]) / 2 + random.Next(-1, 2), 0, 4);
            lines.Add($"{(q % 3 == 0 ? 'F' : 'T')}\t[{string.Join(", ", clicks)}]\t[{string.Join(", ", useful)}]\t{satisfaction}");
        }

        await File.WriteAllLinesAsync(tsv, lines, TestContext.Current.CancellationToken);
        var json = Path.Combine(dir.Path, "sessions.json");
        var md = Path.Combine(dir.Path, "sessions.md");
        var code = await Program.RunAsync(["eval", "sessions", "--log", tsv, "--json", json, "--md", md, "--replicates", "50"], TestContext.Current.CancellationToken);

        Assert.Equal(0, code);
        var results = SessionsResultsFile.FromJson(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal(("sessions", "thuir-fsd"), (results.Kind, results.Dataset));
        Assert.Equal(["query", "session", "query-clicks", "session-clicks"], results.Rows.Select(r => r.Slice).Distinct());
        var dcg = results.Rows.Single(r => r.Model == "DCG-last-query" && r.Slice == "query");
        Assert.Equal(120, dcg.N);
        Assert.True(dcg.Metrics["Spearman"] > 0.3, $"{dcg.Metrics["Spearman"]}");
        Assert.InRange(dcg.Metrics["Spearman"]!.Value, dcg.Ci["Spearman"]![0], dcg.Ci["Spearman"]![1]);
        Assert.Contains("| NUM-no-click-enhancement |", await File.ReadAllTextAsync(md, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATrecLogWithoutJudgmentsOrAnUnknownFileIsAClearError()
    {
        using var dir = new TempFolder();
        var xml = Path.Combine(dir.Path, "log.xml");
        await File.WriteAllTextAsync(xml, "<sessiontrack2014><session num=\"1\"/></sessiontrack2014>", TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Program.RunAsync(["eval", "sessions", "--log", xml], TestContext.Current.CancellationToken));
        Assert.Contains("--judgments", error.Message, StringComparison.Ordinal);

        var other = Path.Combine(dir.Path, "log.csv");
        await File.WriteAllTextAsync(other, "a,b", TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<ArgumentException>(() => Program.RunAsync(["eval", "sessions", "--log", other], TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentException>(() => Program.RunAsync(["eval", "sessions", "--log", Path.Combine(dir.Path, "missing.tsv")], TestContext.Current.CancellationToken));
    }
}
