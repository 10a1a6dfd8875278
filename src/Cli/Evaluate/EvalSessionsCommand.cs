namespace SessionRec.Cli.Evaluate;

using System.Globalization;
using System.Text.Json;
using Parquet.Serialization;
using SessionRec.Silo.ClickLog;
using SessionRec.Analytics.Data;
using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;
using SessionRec.Cli.Export;
using Spectre.Console;

/// <summary>
/// `sessionrec eval sessions --log <file>`: session-level metrics side by side. On labelled data (TREC Session
/// XML, THUIR query files) it prints each metric's correlation with satisfaction (or judged relevance); on a
/// click-log export (NDJSON or Parquet) it prints the per-model-version aggregates the analytics API serves.
/// </summary>
public static class EvalSessionsCommand
{
    public const string TrecProtocol =
        "TREC Session Track: metrics computed from clicks (as the service computes them from its log) against the session's judged quality (mean over its queries of DCG@10 on graded judgments, 2^g-1 gains, negative grades as 0); Pearson and Spearman with 95% bootstrap intervals over sessions";

    public const string ThuirProtocol =
        "THUIR query files, sessions split at 'F' rows; slice query: each query's satisfaction vs the metric over its session up to that query; slice session: mean satisfaction of the session's queries vs the metric over the whole session; labels = usefulness (the -clicks slices: clicks only); Pearson and Spearman with 95% bootstrap intervals";

    public static async Task<int> RunAsync(Dictionary<string, string?> options, string command, CancellationToken cancellationToken)
    {
        var log = options.GetValueOrDefault("log") ?? throw new ArgumentException("eval sessions needs --log <click-log export (.ndjson, .parquet), TREC Session XML or THUIR .tsv>.");
        if (!File.Exists(log))
        {
            throw new ArgumentException($"--log {log}: no such file.");
        }

        var metricOptions = Options(options);
        var replicates = int.Parse(options.GetValueOrDefault("replicates") ?? "1000", CultureInfo.InvariantCulture);
        var extension = Path.GetExtension(log).ToLowerInvariant();
        SessionsResultsFile results;
        switch (extension)
        {
            case ".xml":
                var judgmentsPath = options.GetValueOrDefault("judgments") ?? FindJudgments(log)
                    ?? throw new ArgumentException("A TREC Session log needs its judgments: --judgments <file> ('topic subtopic docid grade' lines).");
                var sessions = TrecSessionReader.ReadSessions(log);
                var judgments = TrecSessionReader.ReadJudgments(judgmentsPath);
                AnsiConsole.MarkupLineInterpolated($"{log}: {sessions.Count:N0} sessions, {sessions.Sum(s => s.Interactions.Count):N0} queries, {sessions.Sum(s => s.Interactions.Sum(i => i.Clicks.Count)):N0} clicks; {judgments.Count:N0} judgments");
                results = SessionsResultsFile.FromCorrelations(
                    options.GetValueOrDefault("dataset") ?? new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(log))!).Name,
                    TrecProtocol, command, CorrelationStudy.Trec(sessions, judgments, metricOptions, replicates));
                break;
            case ".tsv" or ".txt":
                var rows = ThuirReader.ReadQueries(log);
                AnsiConsole.MarkupLineInterpolated($"{log}: {rows.Count:N0} queries in {ThuirReader.Sessions(rows).Count:N0} sessions");
                results = SessionsResultsFile.FromCorrelations(
                    options.GetValueOrDefault("dataset") ?? ThuirName(log), ThuirProtocol, command, CorrelationStudy.Thuir(rows, metricOptions, replicates));
                break;
            case ".ndjson" or ".jsonl" or ".json" or ".parquet":
                return await ClickLogAsync(log, options, metricOptions, cancellationToken);
            default:
                throw new ArgumentException($"--log {log}: unknown kind (expected .xml TREC Session, .tsv THUIR, .ndjson/.parquet click-log export).");
        }

        Print(results);
        Write(results.ToJson(), options.GetValueOrDefault("json"));
        Write(results.ToMarkdown(), options.GetValueOrDefault("md"));
        return 0;
    }

    /// <summary>Metric constants from the command line (--depth, --patience, --snippet, --document, --reformulation-cost, --decay, --rbp-p, --rbp-b).</summary>
    private static MetricOptions Options(Dictionary<string, string?> options)
    {
        var d = new MetricOptions();
        double Number(string name, double fallback) =>
            options.GetValueOrDefault(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return d with
        {
            Depth = (int)Number("depth", d.Depth),
            Patience = Number("patience", d.Patience),
            SnippetLength = Number("snippet", d.SnippetLength),
            DocumentLength = Number("document", d.DocumentLength),
            ReformulationCost = Number("reformulation-cost", d.ReformulationCost),
            RecencyDecay = Number("decay", d.RecencyDecay),
            RbpPersistence = Number("rbp-p", d.RbpPersistence),
            RbpBalance = Number("rbp-b", d.RbpBalance),
        };
    }

    private static async Task<int> ClickLogAsync(string path, Dictionary<string, string?> options, MetricOptions metricOptions, CancellationToken cancellationToken)
    {
        var events = await ReadExportAsync(path, cancellationToken);
        var sessions = SessionBuilder.Build(events);
        var compare = options.GetValueOrDefault("compare")?.Split(',', StringSplitOptions.TrimEntries);
        if (compare is not null && compare.Length != 2)
        {
            throw new ArgumentException("--compare takes two model versions: --compare <a>,<b>.");
        }

        var report = SessionAnalytics.Summarize(
            sessions,
            new AnalyticsFilter(Surface: options.GetValueOrDefault("surface"), Model: options.GetValueOrDefault("model"), Metric: options.GetValueOrDefault("metric") ?? MetricCatalogue.Num),
            metricOptions,
            compare: compare is null ? null : (compare[0], compare[1]));
        AnsiConsole.MarkupLineInterpolated($"{path}: {events.Count:N0} records, {sessions.Count:N0} sessions, {report.Sessions:N0} with served lists ({report.Requests:N0} lists)");
        var table = new Table().AddColumns("surface", "model version", "sessions", "lists", $"{report.Metric} (95% CI)", "CTR", "HR@10", "MRR", "conversion");
        foreach (var m in report.ByModel)
        {
            table.AddRow(m.Surface, m.ModelVersion, $"{m.Sessions:N0}", $"{m.Requests:N0}", $"{m.Metric.Value:0.0000} ({m.Metric.Low:0.0000}–{m.Metric.High:0.0000})",
                $"{m.Ctr:0.0000}", $"{m.HitRate10:0.0000}", $"{m.Mrr:0.0000}", $"{m.Conversion:0.0000}");
        }

        AnsiConsole.Write(table);
        if (report.Comparison is { } c)
        {
            AnsiConsole.MarkupLineInterpolated($"{c.Metric}: {c.B} − {c.A} = {c.Difference.Value:+0.0000;-0.0000} (95% CI {c.Difference.Low:+0.0000;-0.0000} to {c.Difference.High:+0.0000;-0.0000}; {c.SessionsA:N0} vs {c.SessionsB:N0} sessions)");
        }

        var json = options.GetValueOrDefault("json");
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report.ByModel, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }), cancellationToken);
        }

        return 0;
    }

    /// <summary>Reads a `sessionrec export clicklog` file (NDJSON or Parquet, the schema of docs/clicklog.md).</summary>
    public static async Task<IReadOnlyList<LogEvent>> ReadExportAsync(string path, CancellationToken cancellationToken)
    {
        IList<ClickLogRow> rows;
        if (path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            await using var file = File.OpenRead(path);
            rows = [.. (await ParquetSerializer.DeserializeAsync<ClickLogRow>(file, cancellationToken: cancellationToken)).Data];
        }
        else
        {
            rows = [];
            var lineNumber = 0;
            foreach (var line in await File.ReadAllLinesAsync(path, cancellationToken))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                try
                {
                    rows.Add(JsonSerializer.Deserialize<ClickLogRow>(line) ?? throw new JsonException("null record"));
                }
                catch (JsonException e)
                {
                    throw new FormatException($"{path}:{lineNumber}: not a click-log record: {e.Message}", e);
                }
            }
        }

        return rows.Select(r => new LogEvent(
            r.Sequence, r.UserId, r.SessionId, r.Type, r.ItemId, r.Query, r.RequestId, r.Position,
            new DateTimeOffset(DateTime.SpecifyKind(r.Timestamp, DateTimeKind.Utc)), r.Surface, r.Shown, r.ModelVersion,
            string.IsNullOrEmpty(r.EventId) ? null : r.EventId)).ToList();
    }

    private static void Print(SessionsResultsFile results)
    {
        foreach (var slice in results.Rows.Select(r => r.Slice).Distinct())
        {
            var table = new Table().Title($"{results.Dataset}, slice {slice}").AddColumns("metric", "n", "Spearman (95% CI)", "Pearson (95% CI)");
            foreach (var row in results.Rows.Where(r => r.Slice == slice))
            {
                table.AddRow(row.Model, $"{row.N:N0}",
                    Cell(row, "Spearman"),
                    Cell(row, "Pearson"));
            }

            AnsiConsole.Write(table);
        }
    }

    private static string Cell(SessionsResultRow row, string metric) =>
        row.Metrics.GetValueOrDefault(metric) is { } value && row.Ci.GetValueOrDefault(metric) is { } ci
            ? string.Create(CultureInfo.InvariantCulture, $"{value:0.0000} ({ci[0]:0.0000}–{ci[1]:0.0000})")
            : "n/a (undefined)";

    private static void Write(string text, string? path)
    {
        if (path is not null)
        {
            File.WriteAllText(path, text);
        }
    }

    private static string? FindJudgments(string log) =>
        Directory.EnumerateFiles(Path.GetDirectoryName(Path.GetFullPath(log))!)
            .Where(f => Path.GetFileName(f).Contains("judgment", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(f).Contains("qrels", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).FirstOrDefault();

    private static string ThuirName(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
        return name.StartsWith("fsd", StringComparison.Ordinal) ? "thuir-fsd" : name.StartsWith("qref", StringComparison.Ordinal) ? "thuir-qref" : name;
    }
}
