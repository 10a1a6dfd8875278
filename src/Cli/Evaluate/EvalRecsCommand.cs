namespace SessionRec.Cli.Evaluate;

using System.Diagnostics;
using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;
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
        var rows = new List<ResultRow>();
        var progress = new Progress<string>(message => AnsiConsole.MarkupLineInterpolated($"[grey]{DateTime.Now:HH:mm:ss} {message}[/]"));
        foreach (var candidate in candidates)
        {
            var watch = Stopwatch.StartNew();
            foreach (var row in evaluation.Run(candidate, newItems(candidate), progress, cancellationToken))
            {
                rows.Add(row);
                AnsiConsole.MarkupLineInterpolated($"{row.Model,-34} {row.Slice,-9} n={row.Users,6:N0}  HR@20 {row.Metrics["HR@20"]:0.0000}  NDCG@20 {row.Metrics["NDCG@20"]:0.0000}  HR@50 {row.Metrics["HR@50"]:0.0000}  NDCG@50 {row.Metrics["NDCG@50"]:0.0000}");
            }

            AnsiConsole.MarkupLineInterpolated($"[grey]{candidate.Name}: {watch.Elapsed.TotalSeconds:0} s[/]");
        }

        var results = new ResultsFile("recs", dataset.Name, RecsEvaluation.Protocol, ResultsFile.DescribeMachine(), command, DateTimeOffset.UtcNow, rows);
        if (json is not null)
        {
            File.WriteAllText(json, results.ToJson());
        }

        if (markdown is not null)
        {
            File.WriteAllText(markdown, results.ToMarkdown());
        }

        return 0;
    }
}
