namespace SessionRec.Cli;

using System.Globalization;
using SessionRec.Cli.Evaluate;
using SessionRec.Cli.Export;
using SessionRec.Cli.Import;
using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;
using SessionRec.Models.Featurization;
using SessionRec.Training;
using SessionRec.Training.Evaluation;
using SessionRec.Training.MultiRound;
using Spectre.Console;

/// <summary>`sessionrec`: import data sets into a running service, export its click log.</summary>
public static class Program
{
    public const string Usage = """
        sessionrec import beauty <folder>                  Amazon Beauty (Beauty.txt + items.tsv)
        sessionrec import recbole <file.inter> [--item <file.item>]
        sessionrec import movielens <folder>               ratings.csv + movies.csv
        sessionrec import diginetica <train-item-views.csv>
        sessionrec train beauty|recbole <path> [--item <file.item>] [--out <models folder>] [--version <name>]
                           [--minutes <budget>] [--item-vectors auto|hybrid|metadata]
                           [--rounds 5 [--per-round 20] [--round-minutes 6]]
                                                           train the metadata transformer, write a model folder
                                                           (default <data>/models/<tenant>/m2trec-<time>); item
                                                           vectors: auto keeps item-id residuals (frequent items)
                                                           only if they beat the pure metadata model on validation
        sessionrec eval recs beauty|recbole <path> [--item <file.item>] [--models a,b] [--json <file>] [--md <file>]
                                                           leave-one-out evaluation of the baselines and models
                           [--minutes <per model>] [--epochs <n>] [--no-new-items] [--new-items-for a,b]
                           [--lr 1e-3] [--dropout 0.2] [--tower linear|mlp] [--scoring dot|cosine]
                           [--pooling last|mean] [--heads-weight 0.1]     (training options, also for train)
                           [--residual-min-count 5]    items with fewer training interactions get no id residual
                           [--metadata anonymous]      replace brands and categories by opaque ids, drop titles and
                                                       prices (the poor-metadata ablation); also for train
                           [--ranker-base hybrid|pure] the ranker fuses the model train serves (hybrid, the default:
                                                       residuals kept only if they win on validation) or the pure one
                           [--rounds 5] [--per-round 20] [--round-minutes 6] [--round-epochs <n>]
                           [--round-adapters gated|published] [--round-decay 0.3] [--round-base-loss 1]
                                                           multi-round retrieval (Ada-Retrieval) fine-tuning
        sessionrec eval suggestions --log <file> [--json <file>] [--md <file>] [--dataset <name>] [--replicates 1000]
                           [--split time|interleaved]  hold out the last 20% of the log's time, or every 5th session
                                                           next-query suggestion on held-out sessions of a query log
                                                           (.tsv: user, time, query; AOL with header) or TREC Session
                                                           .xml: MPC vs the non-personalized and personalized pipelines
        sessionrec eval linking beauty|recbole <path> [--sample 2000] [--precision 0.5]
                                                           choose the semantic entity-linking threshold on a catalogue
        sessionrec eval sessions --log <file> [--judgments <file>] [--json <file>] [--md <file>] [--dataset <name>]
                                                           session metrics (NUM, sDCG, sRBP, ...): correlation with
                                                           satisfaction on TREC Session XML / THUIR .tsv; per-model
                                                           aggregates on a click-log export (.ndjson, .parquet)
                           [--metric NUM] [--surface s] [--model v] [--compare a,b]   (click-log exports)
                           [--patience 5000] [--snippet 100] [--document 500] [--reformulation-cost 200]
                           [--depth 10] [--decay 0.7] [--rbp-p 0.8] [--rbp-b 0.7] [--replicates 1000]
        sessionrec generate clicklog --direct|--redis <conn> [--records 10000000] [--users 200000] [--items 12101] [--days 6] [--seed 7]
                                                           a synthetic log of served sessions (views, recommendation and
                                                           suggestion lists from two versions, clicks, carts, purchases)
                                                           written straight into --data (the service stopped) or Redis
        sessionrec log repartition --partitions <n> --direct|--redis <conn> [--tenant default]
                                                           splits a tenant's log of one partition into n by user (the
                                                           service stopped; records keep their sequence numbers; a run
                                                           cut short is run again)
        sessionrec export clicklog --out <file> [--format ndjson|parquet] [--from <time>] [--to <time>]

        Common options:
          --url <url>          the service (default http://127.0.0.1:5080)
          --key <key>          an API key (default: $SESSIONREC_API_KEY, else <data>/api-key.txt)
          --data <folder>      the embedded default's data folder, to find its key (default ./data)
          --window-days <n>    import: lay the data set's sessions over the last n days (default 6: within the 7-day dedup window)
          --direct             import straight into the embedded default's data folder (--data) while the
                               service is stopped, for tenant --tenant (default "default")
        """;

    public static async Task<int> Main(string[] args)
    {
        try
        {
            return await RunAsync(args, CancellationToken.None);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or IOException or HttpRequestException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var (positional, options) = Parse(args);
        if (positional.Count < 2)
        {
            Console.WriteLine(Usage);
            return positional.Count == 0 && options.ContainsKey("help") ? 0 : 2;
        }

        switch (positional[0], positional[1])
        {
            case ("import", var format):
                var dataset = Read(format, positional, options);
                var days = double.Parse(options.GetValueOrDefault("window-days") ?? "6", CultureInfo.InvariantCulture);
                var events = Timeline.Assign(dataset, DateTimeOffset.UtcNow.AddHours(-4), TimeSpan.FromDays(days));
                AnsiConsole.MarkupLineInterpolated($"{dataset.Name}: {dataset.Items.Count:N0} items, {events.Count:N0} interactions of {dataset.Interactions.Select(i => i.UserId).Distinct().Count():N0} users");
                EvalRecsCommand.Print(FeatureCoverage.Measure(ItemFeaturizer.Fit(dataset.Items), dataset.Items));

                var started = DateTime.UtcNow;
                Importer.Totals totals;
                if (options.ContainsKey("direct"))
                {
                    using var direct = new DirectTarget(options.GetValueOrDefault("data") ?? "data", options.GetValueOrDefault("tenant") ?? "default");
                    totals = await new Importer(direct).ImportAsync(dataset, events, cancellationToken);
                }
                else
                {
                    using var client = new ServiceClient(options.GetValueOrDefault("url") ?? "http://127.0.0.1:5080", Key(options));
                    totals = await new Importer(new HttpTarget(client)).ImportAsync(dataset, events, cancellationToken);
                }

                AnsiConsole.MarkupLineInterpolated($"done in {(DateTime.UtcNow - started).TotalSeconds:0.0} s: {totals.Items:N0} items; events {totals.Accepted:N0} accepted, {totals.Duplicates:N0} already there, {totals.Rejected:N0} rejected");
                foreach (var sample in totals.SampleRejections)
                {
                    AnsiConsole.MarkupLineInterpolated($"  rejected {sample}");
                }

                return totals.Rejected == 0 ? 0 : 1;

            case ("train", var format):
                var modelsFolder = options.GetValueOrDefault("out") ?? Path.Combine(options.GetValueOrDefault("data") ?? "data", "models", options.GetValueOrDefault("tenant") ?? "default");
                var trainOptions = (options.ContainsKey("id-residual") ? "hybrid" : options.GetValueOrDefault("item-vectors") ?? "auto") switch
                {
                    "auto" => TrainOptions(options) with { IdResidual = true, ChooseOnValidation = true },
                    "hybrid" => TrainOptions(options) with { IdResidual = true, ChooseOnValidation = false },
                    "metadata" => TrainOptions(options) with { IdResidual = false },
                    var other => throw new ArgumentException($"--item-vectors is auto, hybrid or metadata, not '{other}'."),
                };
                var manifest = ModelTraining.Run(
                    Read(format, positional, options),
                    trainOptions,
                    modelsFolder,
                    options.GetValueOrDefault("version"),
                    new Progress<string>(message => AnsiConsole.MarkupLineInterpolated($"[grey]{DateTime.Now:HH:mm:ss}[/] {message}")),
                    cancellationToken,
                    options.ContainsKey("rounds") ? RoundOptions(options) : null);
                AnsiConsole.MarkupLineInterpolated($"model {manifest.Version} written; serve it with: curl -X PUT -H \"Authorization: Bearer $KEY\" -H 'content-type: application/json' -d '{{\"active\": \"{manifest.Version}\"}}' http://127.0.0.1:5080/v1/models");
                return 0;

            case ("eval", "recs"):
                var candidates = FunctionCandidate.Baselines().Concat(TransformerCandidates.All(TrainOptions(options), RankerOnHybrid(options), RoundOptions(options))).ToList();
                var only = options.GetValueOrDefault("models")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return EvalRecsCommand.Run(
                    Read(positional.ElementAtOrDefault(2) ?? "", positional, options),
                    [.. candidates.Where(c => only is null || only.Contains(c.Name))],
                    "sessionrec " + string.Join(' ', args),
                    options.GetValueOrDefault("json"),
                    options.GetValueOrDefault("md"),
                    // The new-item slice retrains each model on a split without the held-out items: by default only
                    // the rows the targets name pay for that (the ranker and the hybrid row share one training); the baselines are cheap.
                    c => !options.ContainsKey("no-new-items")
                        && (c is FunctionCandidate || (options.GetValueOrDefault("new-items-for") ?? "metadata-transformer,hybrid-transformer,ranker").Split(',').Contains(c.Name)),
                    cancellationToken);

            case ("eval", "linking"):
                return EvalLinkingCommand.Run(
                    Read(positional.ElementAtOrDefault(2) ?? "", positional, options),
                    int.Parse(options.GetValueOrDefault("sample") ?? "2000", CultureInfo.InvariantCulture),
                    double.Parse(options.GetValueOrDefault("precision") ?? "0.5", CultureInfo.InvariantCulture));

            case ("eval", "suggestions"):
                return EvalSuggestionsCommand.Run(options, "sessionrec " + string.Join(' ', args), cancellationToken);

            case ("eval", "sessions"):
                return await EvalSessionsCommand.RunAsync(options, "sessionrec " + string.Join(' ', args), cancellationToken);

            case ("generate", "clicklog"):
                if (!options.ContainsKey("direct") && !options.ContainsKey("redis"))
                {
                    throw new ArgumentException("generate clicklog writes into the embedded default's data folder (--direct --data <folder>, the service stopped) or into Redis (--redis <connection string>).");
                }

                var records = long.Parse(options.GetValueOrDefault("records") ?? "10000000", CultureInfo.InvariantCulture);
                var synthetic = new Generate.SyntheticClickLog(
                    int.Parse(options.GetValueOrDefault("users") ?? "200000", CultureInfo.InvariantCulture),
                    int.Parse(options.GetValueOrDefault("items") ?? "12101", CultureInfo.InvariantCulture),
                    int.Parse(options.GetValueOrDefault("days") ?? "6", CultureInfo.InvariantCulture),
                    int.Parse(options.GetValueOrDefault("seed") ?? "7", CultureInfo.InvariantCulture));
                var generateStarted = DateTime.UtcNow;
                long generated = 0;
                await AnsiConsole.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask("click log", maxValue: records);
                    generated = await new Generate.ClickLogGenerator(options.GetValueOrDefault("data") ?? "data", options.GetValueOrDefault("tenant") ?? "default", options.GetValueOrDefault("redis"))
                        .RunAsync(synthetic, records, written => task.Value = written, cancellationToken);
                });
                AnsiConsole.MarkupLineInterpolated($"wrote {generated:N0} records in {(DateTime.UtcNow - generateStarted).TotalSeconds:0.0} s");
                return 0;

            case ("log", "repartition"):
                if (!options.ContainsKey("direct") && !options.ContainsKey("redis"))
                {
                    throw new ArgumentException("log repartition works on the embedded default's data folder (--direct --data <folder>, the service stopped) or on Redis (--redis <connection string>, every service process stopped).");
                }

                var partitionCount = int.Parse(options.GetValueOrDefault("partitions") ?? throw new ArgumentException("log repartition needs --partitions <n>."), CultureInfo.InvariantCulture);
                var repartitionTenant = options.GetValueOrDefault("tenant") ?? "default";
                Silo.ClickLog.RepartitionResult? repartitioned = null;
                await AnsiConsole.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask("click log", maxValue: 1);
                    repartitioned = await Log.LogRepartitionCommand.RunAsync(
                        options.GetValueOrDefault("data") ?? "data", options.GetValueOrDefault("redis"), repartitionTenant, partitionCount, (done, total) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                        }, cancellationToken);
                });
                if (repartitioned!.AlreadyDone)
                {
                    AnsiConsole.MarkupLineInterpolated($"tenant {repartitionTenant}: its log already has {repartitioned.Partitions} partitions");
                }
                else
                {
                    AnsiConsole.MarkupLineInterpolated($"tenant {repartitionTenant}: {repartitioned.Records:N0} records now in {repartitioned.Partitions} partitions");
                    if (repartitioned.Unreadable > 0)
                    {
                        AnsiConsole.MarkupLineInterpolated($"[yellow]{repartitioned.Unreadable:N0} records no longer parse (their content was lost before this run) and were not moved[/]");
                    }
                }
                return 0;

            case ("export", "clicklog"):
                var output = options.GetValueOrDefault("out") ?? throw new ArgumentException("export clicklog needs --out <file>.");
                var kind = options.GetValueOrDefault("format") ?? (output.EndsWith(".parquet", StringComparison.Ordinal) ? "parquet" : "ndjson");
                if (kind is not ("ndjson" or "parquet"))
                {
                    throw new ArgumentException("--format is ndjson or parquet.");
                }

                var from = options.TryGetValue("from", out var f) ? DateTimeOffset.Parse(f!, CultureInfo.InvariantCulture) : (DateTimeOffset?)null;
                var to = options.TryGetValue("to", out var t) ? DateTimeOffset.Parse(t!, CultureInfo.InvariantCulture) : (DateTimeOffset?)null;
                using (var client = new ServiceClient(options.GetValueOrDefault("url") ?? "http://127.0.0.1:5080", Key(options)))
                {
                    var count = 0;
                    await AnsiConsole.Progress().StartAsync(async progress =>
                    {
                        var task = progress.AddTask("click log", maxValue: 1);
                        // A partitioned log has no one last sequence to count to: the bar counts records, full at the end.
                        task.IsIndeterminate = true;
                        count = await new ClickLogExporter(client).ExportAsync(output, kind, from, to, (read, more) =>
                        {
                            task.IsIndeterminate = more;
                            task.MaxValue = Math.Max(1, read);
                            task.Value = read;
                        }, cancellationToken);
                    });
                    AnsiConsole.MarkupLineInterpolated($"wrote {count:N0} records to {output} ({kind})");
                }

                return 0;

            default:
                Console.WriteLine(Usage);
                return 2;
        }
    }

    /// <summary>--ranker-base: hybrid (default; "id" is its old name) or pure.</summary>
    private static bool RankerOnHybrid(Dictionary<string, string?> options) => options.GetValueOrDefault("ranker-base") switch
    {
        null or "hybrid" or "id" => true,
        "pure" => false,
        var other => throw new ArgumentException($"--ranker-base is hybrid or pure, not '{other}'."),
    };

    /// <summary>Multi-round (Ada-Retrieval) options from the command line (--rounds, --per-round, --round-minutes, --round-epochs).</summary>
    private static MultiRoundOptions RoundOptions(Dictionary<string, string?> options)
    {
        var defaults = new MultiRoundOptions();
        double Number(string name, double fallback) =>
            options.GetValueOrDefault(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;
        var rounds = (int)Number("rounds", defaults.Rounds);
        var perRound = (int)Number("per-round", defaults.PerRound);
        if (rounds is < 1 or > 20 || perRound is < 1 or > 1000)
        {
            throw new ArgumentException("--rounds is 1–20 and --per-round 1–1000.");
        }

        return defaults with
        {
            Rounds = rounds,
            PerRound = perRound,
            MaxMinutes = Number("round-minutes", defaults.MaxMinutes),
            MaxEpochs = (int)Number("round-epochs", defaults.MaxEpochs),
            Gated = options.GetValueOrDefault("round-adapters") is not "published",
            BaseLossWeight = Number("round-base-loss", defaults.BaseLossWeight),
            Decay = Number("round-decay", defaults.Decay),
        };
    }

    /// <summary>Trainer options from the command line (--minutes, --epochs, --dim, --layers, --seed, --lr, --tower, --scoring, --pooling, --heads-weight).</summary>
    private static M2TRecOptions TrainOptions(Dictionary<string, string?> options)
    {
        var defaults = new M2TRecOptions();
        double Number(string name, double fallback) =>
            options.GetValueOrDefault(name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return defaults with
        {
            MaxMinutes = Number("minutes", defaults.MaxMinutes),
            MaxEpochs = (int)Number("epochs", defaults.MaxEpochs),
            Dim = (int)Number("dim", defaults.Dim),
            Layers = (int)Number("layers", defaults.Layers),
            Seed = (int)Number("seed", defaults.Seed),
            LearningRate = Number("lr", defaults.LearningRate),
            Dropout = Number("dropout", defaults.Dropout),
            PrimaryWeight = Number("heads-weight", defaults.PrimaryWeight),
            SubcategoryWeight = Number("heads-weight", defaults.SubcategoryWeight),
            ItemTower = options.GetValueOrDefault("tower") ?? defaults.ItemTower,
            Scoring = options.GetValueOrDefault("scoring") ?? defaults.Scoring,
            Pooling = options.GetValueOrDefault("pooling") ?? defaults.Pooling,
            ResidualMinCount = (int)Number("residual-min-count", defaults.ResidualMinCount),
        };
    }

    private static Dataset Read(string format, List<string> positional, Dictionary<string, string?> options)
    {
        // import <format> <path> / eval recs <format> <path>
        var at = positional[0] == "eval" ? 3 : 2;
        var path = positional.Count > at ? positional[at] : throw new ArgumentException($"{positional[0]} {format} needs a path.");
        var dataset = format switch
        {
            "beauty" => DatasetReaders.ReadBeauty(path),
            "recbole" => DatasetReaders.ReadRecBole(path, options.GetValueOrDefault("item")),
            "movielens" => DatasetReaders.ReadMovieLens(path),
            "diginetica" => DatasetReaders.ReadDiginetica(path),
            _ => throw new ArgumentException($"Unknown data set format '{format}': beauty, recbole, movielens or diginetica."),
        };
        return options.GetValueOrDefault("metadata") switch
        {
            null or "as-is" => dataset,
            "anonymous" => MetadataAnonymizer.Anonymize(dataset),
            var other => throw new ArgumentException($"--metadata is as-is or anonymous, not '{other}'."),
        };
    }

    private static string Key(Dictionary<string, string?> options)
    {
        if (options.GetValueOrDefault("key") is { Length: > 0 } key)
        {
            return key;
        }

        if (Environment.GetEnvironmentVariable("SESSIONREC_API_KEY") is { Length: > 0 } env)
        {
            return env;
        }

        var file = Path.Combine(options.GetValueOrDefault("data") ?? "data", "api-key.txt");
        return File.Exists(file)
            ? File.ReadAllText(file).Trim()
            : throw new ArgumentException($"No API key: pass --key, set SESSIONREC_API_KEY, or point --data at the embedded default's data folder ({file} not found).");
    }

    private static (List<string> Positional, Dictionary<string, string?> Options) Parse(string[] args)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                var name = args[i][2..];
                options[name] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            }
            else
            {
                positional.Add(args[i]);
            }
        }

        return (positional, options);
    }
}
