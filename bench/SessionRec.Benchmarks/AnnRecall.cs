namespace SessionRec.Benchmarks;

using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SessionRec.Bench;
using SessionRec.Models.Baseline;
using SessionRec.Models.Data;
using SessionRec.Models.Serving;

/// <summary>
/// Recall of the approximate index against the exact scan, on a trained model's real item vectors and real session
/// vectors: Amazon Beauty's items (optionally plus synthetic ones, to measure a larger catalogue) encoded by the
/// model's item encoder; queries are users' sessions from the data set encoded by its session encoder. Reports
/// recall@100 (the index's 100 nearest against the exact 100) and the candidate recall the service relies on (the
/// exact 100 inside the index's 400 candidates, which the ranking stage then scores exactly).
/// Usage: ann-recall --model FOLDER --data ../shared/data/amazon-beauty [--add-items N] [--queries 1000]
///        [--expansion 256] [--collapse-duplicates true] [--json docs/results/bench-serving.json]
///        [--method ivf --lists 1000,4000 --probe 20,40/80,160] [--synthetic generic|load-test]
/// With --method ivf, --json writes each list count's recall per probe into the facts (ivf_recall_at_100_of_sessions).
/// </summary>
public static class AnnRecall
{
    public static int Run(string[] args)
    {
        var options = BenchOptions.Parse(args);

        using var model = OnnxRecommenderModel.Load(options["model"]);
        var dataset = DatasetReaders.ReadBeauty(options.GetValueOrDefault("data", "../shared/data/amazon-beauty"));
        var extra = int.Parse(options.GetValueOrDefault("add-items", "0"), CultureInfo.InvariantCulture);
        var queries = int.Parse(options.GetValueOrDefault("queries", "1000"), CultureInfo.InvariantCulture);
        var expansion = int.Parse(options.GetValueOrDefault("expansion", "256"), CultureInfo.InvariantCulture);
        // generic: SyntheticCatalogue's own category tree (the earlier measurements); load-test: the items the load
        // generator adds with --add-items (Beauty's category paths), the catalogue the serving benchmark serves.
        var synthetic = options.GetValueOrDefault("synthetic", "generic") == "load-test"
            ? CatalogueLikeItems.Make(extra).Select(i => new ImportItem(i.Id, i.Title, i.Brand, i.Categories, new Dictionary<string, string>(), null))
            : SyntheticCatalogue.Items(extra, new Random(42)).Select(i => i with { Id = "syn-" + i.Id });
        var items = dataset.Items.Concat(synthetic).ToList();

        var watch = Stopwatch.StartNew();
        var index = new ItemVectorIndex(model.Version, model.Dim, model.Manifest.Scoring == "cosine");
        for (var start = 0; start < items.Count; start += 4_096)
        {
            var chunk = items.GetRange(start, Math.Min(4_096, items.Count - start));
            index.Set([.. chunk.Select(i => i.Id)], model.EncodeItems(chunk));
            Console.Write($"\rencoded {index.Count:N0} of {items.Count:N0} items ({watch.Elapsed.TotalSeconds:0} s)");
        }

        Console.WriteLine();
        if (options.GetValueOrDefault("method") == "ivf")
        {
            return RunInvertedFile(options, model, dataset, index, queries);
        }

        watch.Restart();
        var collapse = options.GetValueOrDefault("collapse-duplicates") == "true";
        using var ann = AnnIndex.Build(index, index.Count, expansionSearch: expansion, collapseDuplicates: collapse);
        var buildSeconds = watch.Elapsed.TotalSeconds;
        var selfCheck = ann.MeasureRecall(index);
        Console.WriteLine($"approximate index over {index.Count:N0} rows ({ann.Distinct:N0} distinct vectors) built in {buildSeconds:0.0} s; its self-check (10 item vectors and 10 session-like means as queries): recall@100 {selfCheck:0.000}");

        // Sessions: each sampled user's items but the last (at most the model's length), encoded as the service does.
        var random = new Random(1);
        var users = dataset.Interactions.GroupBy(i => i.UserId).Select(g => g.Select(i => i.ItemId).ToList()).Where(s => s.Count >= 3).OrderBy(_ => random.Next()).Take(queries).ToList();
        var scores = new float[index.Count];
        double recall = 0, strictRecall = 0, candidateRecall = 0, annMs = 0, exactMs = 0;
        foreach (var user in users)
        {
            var input = index.SessionInput(user[..^1], model.Manifest.MaxLength, out var length)!;
            var session = model.EncodeSessions(input, 1, length, [length - 1]);
            var started = Stopwatch.GetTimestamp();
            index.Score(session, scores);
            var top = TopK.Select(scores, 100);
            var exact = top.Select(r => r.Item).ToHashSet();

            // Items whose metadata are alike get equal vectors: a row scoring as high as the exact 100th is as right
            // as the one the exact scan kept (ties go to the lower row there, to any of them here).
            var hundredth = (float)top[^1].Score - 1e-5f;
            exactMs += Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            started = Stopwatch.GetTimestamp();
            var nearest = ann.Search(session, 100);
            annMs += Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            recall += Math.Min(100, nearest.Count(row => scores[row] >= hundredth)) / 100.0;
            strictRecall += nearest.Count(exact.Contains) / 100.0;
            var candidates = ann.Search(session, 400);
            candidateRecall += Math.Min(100, candidates.Count(row => scores[row] >= hundredth)) / 100.0;
        }

        var n = users.Count;
        Console.WriteLine($"{index.Count:N0} items, {n} sessions: recall@100 {recall / n:0.0000} (ties counted; {strictRecall / n:0.0000} by row), exact top-100 within 400 candidates {candidateRecall / n:0.0000}; " +
            $"per query: index {annMs / n:0.000} ms, exact scan + top-100 {exactMs / n:0.000} ms (ef {expansion})");
        if (options.GetValueOrDefault("json") is { } json)
        {
            var root = ResultsFile.Read(json);
            var facts = ResultsFile.Facts(root);
            var size = index.Count.ToString(CultureInfo.InvariantCulture);
            void Fact(string name, double value) => (facts[name] as JsonObject ?? (JsonObject)(facts[name] = new JsonObject()))[size] = value;
            Fact("ann_recall_at_100", Math.Round(recall / n, 4));
            Fact("ann_candidate_recall_100_in_400", Math.Round(candidateRecall / n, 4));
            Fact("ann_build_s", Math.Round(buildSeconds, 1));
            Fact("ann_distinct_vectors", ann.Distinct);
            Fact("ann_query_ms", Math.Round(annMs / n, 3));
            Fact("exact_scan_top100_ms", Math.Round(exactMs / n, 3));
            ResultsFile.Write(json, root);
        }

        return 0;
    }

    // The inverted-file experiment: recall@100 of exact scoring within the probed lists, for several probe counts,
    // against the same exact scan and the same sessions as the proximity graph's run.
    private static int RunInvertedFile(Dictionary<string, string> options, OnnxRecommenderModel model, Dataset dataset, ItemVectorIndex index, int queries)
    {
        // Several list counts may be given (--lists 1000,4000 --probe 20,40/80,160): each with its own probe counts.
        var listCounts = options.GetValueOrDefault("lists", InvertedFileIndex.DefaultLists(index.Count).ToString(CultureInfo.InvariantCulture)).Split(',');
        var probeSets = options.GetValueOrDefault("probe", "16,32,64").Split('/');
        // With --json, each list count's results go into the results file's facts, under the catalogue measured.
        var catalogue = $"{index.Count}-{(options.GetValueOrDefault("add-items", "0") == "0" ? "beauty" : options.GetValueOrDefault("synthetic", "generic"))}";
        for (var l = 0; l < listCounts.Length; l++)
        {
            var facts = RunInvertedFile(model, dataset, index, queries, int.Parse(listCounts[l], CultureInfo.InvariantCulture),
                [.. probeSets[Math.Min(l, probeSets.Length - 1)].Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))]);
            if (options.GetValueOrDefault("json") is { } json)
            {
                var root = ResultsFile.Read(json);
                var all = ResultsFile.Facts(root);
                var recall = all["ivf_recall_at_100_of_sessions"] as JsonObject ?? [];
                all["ivf_recall_at_100_of_sessions"] = recall;
                facts["model"] = model.Version;
                facts["sessions"] = queries;
                facts["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                recall[$"{catalogue}, {facts["lists"]} lists"] = facts;
                ResultsFile.Write(json, root);
            }
        }

        return 0;
    }

    private static JsonObject RunInvertedFile(OnnxRecommenderModel model, Dataset dataset, ItemVectorIndex index, int queries, int lists, int[] probes)
    {
        var watch = Stopwatch.StartNew();
        var ivf = InvertedFileIndex.Build(index, index.Count, lists);
        var buildSeconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"inverted file over {index.Count:N0} rows, {ivf.Lists} lists, built in {buildSeconds:0.0} s");
        var random = new Random(1);
        var users = dataset.Interactions.GroupBy(i => i.UserId).Select(g => g.Select(i => i.ItemId).ToList()).Where(s => s.Count >= 3).OrderBy(_ => random.Next()).Take(queries).ToList();
        var scores = new float[index.Count];
        var recall = new double[probes.Length];
        var nearRecall = new double[probes.Length];
        var nearRows = 0.0;
        var millis = new double[probes.Length];
        var scanned = new double[probes.Length];
        foreach (var user in users)
        {
            var input = index.SessionInput(user[..^1], model.Manifest.MaxLength, out var length)!;
            var session = model.EncodeSessions(input, 1, length, [length - 1]);
            index.Score(session, scores);
            var exactTop = TopK.Select(scores, 100);
            var hundredth = (float)exactTop[^1].Score - 1e-5f;

            // How dense the top is: rows within 1% of the top 100's score range below the 100th count as found too
            // (a user could not tell them from it), and how many rows that is.
            var near = hundredth - (0.01f * (float)(exactTop[0].Score - exactTop[^1].Score));
            nearRows += scores.Count(score => score >= near);
            for (var p = 0; p < probes.Length; p++)
            {
                var started = Stopwatch.GetTimestamp();
                var best = ivf.Search(session, 100, probes[p], out var rowsScored);
                millis[p] += Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                scanned[p] += rowsScored;
                recall[p] += Math.Min(100, best.Count(row => scores[row] >= hundredth)) / 100.0;
                nearRecall[p] += Math.Min(100, best.Count(row => scores[row] >= near)) / 100.0;
            }
        }

        var byProbe = new JsonObject();
        for (var p = 0; p < probes.Length; p++)
        {
            // The service's self-check (half item vectors, half means of four) at this probe: with its 20 queries, and with 400.
            var probe = probes[p];
            var check = ivf.MeasureRecall(index, search: (q, k) => ivf.Search(q, k, probe, out _));
            var checkWide = ivf.MeasureRecall(index, samples: 400, search: (q, k) => ivf.Search(q, k, probe, out _));
            Console.WriteLine($"{index.Count:N0} items, {users.Count} sessions, probe {probes[p]} of {ivf.Lists}: recall@100 {recall[p] / users.Count:0.0000} " +
                $"({nearRecall[p] / users.Count:0.0000} counting rows within 1% of the top's range below the 100th: {nearRows / users.Count:N0} rows per session), " +
                $"{scanned[p] / users.Count:N0} rows scored, {millis[p] / users.Count:0.000} ms per query (vectors stored by list); " +
                $"self-check {check:0.000} (20 queries), {checkWide:0.000} (400)");
            byProbe[probe.ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["recall"] = Math.Round(recall[p] / users.Count, 4),
                ["recall_counting_rows_within_1pct"] = Math.Round(nearRecall[p] / users.Count, 4),
                ["rows_scored"] = Math.Round(scanned[p] / users.Count),
                ["self_check_400_queries"] = Math.Round(checkWide, 4),
            };
        }

        return new JsonObject { ["lists"] = ivf.Lists, ["build_s"] = Math.Round(buildSeconds, 1), ["probe"] = byProbe };
    }
}
