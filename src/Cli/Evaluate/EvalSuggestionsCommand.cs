namespace SessionRec.Cli.Evaluate;

using System.Globalization;
using SessionRec.Analytics.Data;
using SessionRec.Analytics.Statistics;
using SessionRec.KnowledgeStore.Evaluation;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.Models.Evaluation;
using Spectre.Console;

/// <summary>
/// `sessionrec eval suggestions --log <file>`: next-query prediction on held-out sessions of a query log
/// (tab-separated: Excite, AOL layouts) or a TREC Session Track XML file, at prefix lengths 0 to 3, for MPC and
/// the non-personalized and personalized suggestion pipelines.
/// </summary>
public static class EvalSuggestionsCommand
{
    /// <summary>The protocol, with the held-out split named ("time" or "interleaved").</summary>
    public static string Protocol(string split) =>
        "sessions split by 30 minutes of inactivity (consecutive repeats merged, empty queries dropped); "
        + (split == "interleaved"
            ? "split interleaved: every 5th session in time order held out (the query log and graph from all other sessions, a user's knowledge from their earlier ones)"
            : "split by time: sessions starting in the last 20% of the log's time span held out")
        + "; every later query of a held-out session is a target, predicted from the session before it and the first L characters of the target (targets no longer than L skipped); top 10; Cosine@10 = best MiniLM (all-MiniLM-L6-v2) cosine with the target, Rouge1@10 = best ROUGE-1 F; exact MRR@10 and Success@10 with Ceiling = share of targets that occur in the training log; 95% bootstrap intervals resampling held-out sessions (a session's targets move together, so they are resampled together)";

    public static int Run(Dictionary<string, string?> options, string command, CancellationToken cancellationToken)
    {
        var log = options.GetValueOrDefault("log") ?? throw new ArgumentException("eval suggestions needs --log <query log .tsv/.log, or TREC Session .xml>.");
        if (!File.Exists(log))
        {
            throw new ArgumentException($"--log {log}: no such file.");
        }

        var sessions = Path.GetExtension(log).Equals(".xml", StringComparison.OrdinalIgnoreCase)
            ? FromTrec(TrecSessionReader.ReadSessions(log))
            : QueryLogReader.Sessions(QueryLogReader.ReadTsv(log));
        var dataset = options.GetValueOrDefault("dataset") ?? new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(log))!).Name;
        var replicates = int.Parse(options.GetValueOrDefault("replicates") ?? "1000", CultureInfo.InvariantCulture);

        using var encoder = new MiniLmEncoder();
        var split = options.GetValueOrDefault("split") ?? "time";
        if (split is not ("time" or "interleaved"))
        {
            throw new ArgumentException($"--split is time or interleaved, not '{split}'.");
        }

        var evaluation = new SuggestionEvaluation(sessions, encoder, interleaved: split == "interleaved");
        var unseen = evaluation.Cases.Count(c => !evaluation.SeenInTraining(c.Target));
        AnsiConsole.MarkupLineInterpolated($"{dataset}: {sessions.Count:N0} sessions; {evaluation.TrainSessions:N0} for training, {evaluation.Test.Count:N0} held out with {evaluation.Cases.Count:N0} next-query targets ({unseen:N0} never searched in training); {evaluation.GraphEntities:N0} phrase entities");

        if (evaluation.Cases.Count == 0)
        {
            // A table of zeros (or NaN) would read as a measured failure of every method; it measured nothing.
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {dataset}: the held-out sessions ({evaluation.Test.Count:N0}) have no next query to predict, so there is nothing to measure; no results written.{(split == "time" ? " Try --split interleaved (every 5th session held out), if earlier sessions have follow-up queries." : "")}");
            return 1;
        }

        var rows = new List<ResultRow>();
        var methods = new[] { SuggestionEvaluation.Mpc, SuggestionEvaluation.NonPersonal, SuggestionEvaluation.Personal };
        for (var prefix = 0; prefix <= 3; prefix++)
        {
            var byMethod = new Dictionary<string, IReadOnlyList<CaseResult>>();
            foreach (var method in methods)
            {
                var started = DateTime.UtcNow;
                byMethod[method] = evaluation.Run(method, prefix, null, cancellationToken);
                var results = byMethod[method];
                if (results.Count == 0)
                {
                    break;
                }

                var row = Row(method, $"prefix-{prefix}", results, evaluation, replicates);
                rows.Add(row);
                AnsiConsole.MarkupLineInterpolated($"{method,-20} prefix-{prefix} n={results.Count,4}  Cosine@10 {row.Metrics["Cosine@10"]:0.0000}  Rouge1@10 {row.Metrics["Rouge1@10"]:0.0000}  MRR@10 {row.Metrics["MRR@10"]:0.0000} (ceiling {row.Metrics["Ceiling"]:0.0000})  ({(DateTime.UtcNow - started).TotalSeconds:0} s)");
            }

            if (byMethod.Values.Any(r => r.Count == 0))
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]prefix-{prefix}: no target is longer than {prefix} characters; the slice is left out[/]");
                continue;
            }

            // The personalized pipeline's margins over the other two, paired by target.
            var personal = byMethod[SuggestionEvaluation.Personal];
            var notes = new List<string>();
            foreach (var other in new[] { SuggestionEvaluation.Mpc, SuggestionEvaluation.NonPersonal })
            {
                foreach (var (metric, pick) in new (string, Func<CaseResult, double>)[] { ("Cosine@10", r => r.Cosine), ("Rouge1@10", r => r.Rouge1) })
                {
                    var margin = MeanBootstrap.ClusteredMean(personal.Zip(byMethod[other], (p, o) => pick(p) - pick(o)).ToList(), Sessions(personal), replicates);
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"{metric} vs {other} {margin.Value:+0.0000;-0.0000} (95% CI {margin.Low:+0.0000;-0.0000} to {margin.High:+0.0000;-0.0000})"));
                }
            }

            var index = rows.FindLastIndex(r => r.Model == SuggestionEvaluation.Personal);
            rows[index] = rows[index] with { Note = "margins: " + string.Join("; ", notes) };
            AnsiConsole.MarkupLineInterpolated($"[grey]{rows[index].Note}[/]");
        }

        var file = new ResultsFile("suggestions", dataset, Protocol(split), ResultsFile.DescribeMachine(), command, DateTimeOffset.UtcNow, rows);
        if (options.GetValueOrDefault("json") is { } json)
        {
            File.WriteAllText(json, file.ToJson());
        }

        if (options.GetValueOrDefault("md") is { } md)
        {
            File.WriteAllText(md, file.ToMarkdown(["Cosine@10", "Rouge1@10", "MRR@10", "Success@10", "Ceiling"], ["Cosine@10", "Rouge1@10"], "targets"));
        }

        return 0;
    }

    /// <summary>Each result's held-out session, as a cluster id for the bootstrap.</summary>
    private static int[] Sessions(IReadOnlyList<CaseResult> results)
    {
        var ids = new Dictionary<QuerySession, int>(ReferenceEqualityComparer.Instance);
        return [.. results.Select(r => ids.TryGetValue(r.Case.Session, out var id) ? id : ids[r.Case.Session] = ids.Count)];
    }

    private static ResultRow Row(string method, string slice, IReadOnlyList<CaseResult> results, SuggestionEvaluation evaluation, int replicates)
    {
        var metrics = new Dictionary<string, double>();
        var ci = new Dictionary<string, double[]>();
        var sessions = Sessions(results);
        foreach (var (name, values) in new (string, List<double>)[]
        {
            ("Cosine@10", results.Select(r => r.Cosine).ToList()),
            ("Rouge1@10", results.Select(r => r.Rouge1).ToList()),
            ("MRR@10", results.Select(r => r.ReciprocalRank).ToList()),
            ("Success@10", results.Select(r => r.ReciprocalRank > 0 ? 1.0 : 0).ToList()),
            ("Ceiling", results.Select(r => evaluation.SeenInTraining(r.Case.Target) ? 1.0 : 0).ToList()),
        })
        {
            var estimate = MeanBootstrap.ClusteredMean(values, sessions, replicates);
            metrics[name] = Math.Round(estimate.Value, 4);
            ci[name] = [Math.Round(estimate.Low, 4), Math.Round(estimate.High, 4)];
        }

        return new ResultRow(method, slice, results.Count, metrics, ci);
    }

    /// <summary>
    /// TREC sessions as query sessions: one user per session (the track gives none across sessions), its
    /// interactions then the current query, with the titles of the clicked results; sessions keep the file's
    /// order as time (the track records times of day only).
    /// </summary>
    public static IReadOnlyList<QuerySession> FromTrec(IReadOnlyList<TrecSession> sessions)
    {
        var start = new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return sessions.Select((s, index) =>
        {
            var at = start.AddHours(index);
            var queries = s.Interactions.Select((interaction, i) => new LoggedQuery(
                interaction.Query, at.AddMinutes(i),
                interaction.Clicks.Select(c => interaction.Results.FirstOrDefault(r => r.Rank == c.Rank)?.Title).OfType<string>().ToList())).ToList();
            if (!string.IsNullOrWhiteSpace(s.CurrentQuery))
            {
                queries.Add(new LoggedQuery(s.CurrentQuery, at.AddMinutes(queries.Count), []));
            }

            // Repeats of the query before are merged, as in query logs.
            var merged = new List<LoggedQuery>();
            foreach (var q in queries)
            {
                if (merged.Count == 0 || SessionRec.KnowledgeStore.Text.TextNormalizer.Normalize(merged[^1].Text) != SessionRec.KnowledgeStore.Text.TextNormalizer.Normalize(q.Text))
                {
                    merged.Add(q);
                }
            }

            return new QuerySession("trec-" + s.Number, merged);
        }).Where(s => s.Queries.Count > 0).ToList();
    }
}
