namespace SessionRec.Cli.Evaluate;

using System.Diagnostics;
using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using Spectre.Console;

/// <summary>`sessionrec eval recs`: the leave-one-out harness over the baselines and the trained models.</summary>
public static class EvalRecsCommand
{
    public static int Run(Dataset dataset, IReadOnlyList<IRecommenderCandidate> candidates, string command, string? json, string? markdown, Func<IRecommenderCandidate, bool> newItems, CancellationToken cancellationToken)
    {
        var sequences = SequenceDataset.From(dataset);
        var split = LeaveOneOutSplit.Create(sequences);
        var evaluation = new RecsEvaluation(split);
        AnsiConsole.MarkupLineInterpolated($"{dataset.Name}: {split.ItemCount:N0} items, {split.UserCount:N0} users, {evaluation.ColdUsers().Count:N0} cold targets (≤ {RecsEvaluation.ColdThreshold} training interactions), {evaluation.NewItemSplit().Users.Count:N0} users whose target is a held-out new item");
        var coverage = FeatureCoverage.Measure(ItemFeaturizer.Fit(split.ReleasedItems), dataset.Items);
        Print(coverage);
        var data = string.Join(". ", coverage.Lines()) + ".";
        var rows = new List<ResultRow>();
        var progress = new Progress<string>(message => AnsiConsole.MarkupLineInterpolated($"[grey]{DateTime.Now:HH:mm:ss} {message}[/]"));
        var failed = new List<string>();
        foreach (var candidate in candidates)
        {
            var watch = Stopwatch.StartNew();
            var before = rows.Count;
            try
            {
                foreach (var row in evaluation.Run(candidate, newItems(candidate), progress, cancellationToken))
                {
                    rows.Add(row);
                    AnsiConsole.MarkupLineInterpolated($"{row.Model,-34} {row.Slice,-9} n={row.Users,6:N0}  HR@20 {row.Metrics["HR@20"]:0.0000}  NDCG@20 {row.Metrics["NDCG@20"]:0.0000}  HR@50 {row.Metrics["HR@50"]:0.0000}  NDCG@50 {row.Metrics["NDCG@50"]:0.0000}");
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One failing row (a model that crashed in training or scoring) must not cost the hour of rows
                // before it: drop its partial slices, say why, go on, and exit non-zero at the end.
                rows.RemoveRange(before, rows.Count - before);
                failed.Add(candidate.Name);
                AnsiConsole.MarkupLineInterpolated($"[red]{candidate.Name} failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}[/]");
            }

            AnsiConsole.MarkupLineInterpolated($"[grey]{candidate.Name}: {watch.Elapsed.TotalSeconds:0} s[/]");
            // Written after every row, so a long run that is stopped keeps what it measured.
            Write(dataset, command, json, markdown, [.. rows.Select(evaluation.CompareWithBestBaseline)], data);
        }

        if (failed.Count > 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]not in the results: {string.Join(", ", failed)}[/]");
            return 1;
        }

        return 0;
    }

    /// <summary>What the catalogue's metadata give the item encoder, warnings in yellow (also `import`).</summary>
    public static void Print(FeatureCoverage coverage)
    {
        foreach (var line in coverage.Lines())
        {
            if (line.StartsWith("warning:", StringComparison.Ordinal))
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]{line}[/]");
            }
            else
            {
                AnsiConsole.MarkupLineInterpolated($"{line}");
            }
        }
    }

    private static void Write(Dataset dataset, string command, string? json, string? markdown, IReadOnlyList<ResultRow> rows, string data)
    {
        var results = new ResultsFile("recs", dataset.Name, RecsEvaluation.Protocol, ResultsFile.DescribeMachine(), command, DateTimeOffset.UtcNow, rows, data);
        if (json is not null)
        {
            File.WriteAllText(json, results.ToJson());
        }

        if (markdown is not null)
        {
            File.WriteAllText(markdown, results.ToMarkdown());
        }
    }
}
