namespace SessionRec.Benchmarks;

using System.Diagnostics;
using System.Globalization;
using SessionRec.Bench;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;

/// <summary>
/// The candidate stage's time per request at catalogue sizes a BenchmarkDotNet setup cannot hold (1M rows): item
/// vectors in 2,000 clusters (d = 64), an inverted file built and attached as a replica does, then 2,000 queries each
/// near a random row, in five repetitions; per repetition, the ranking stage over candidates (no statistics: the
/// model's score only), the inverted file's 400 candidates alone, and its ordered top 100. Run builds one after
/// another on the same machine and compare the repetitions after the first.
/// Usage: candidate-timing [--rows 1000000] [--queries 2000]
/// </summary>
public static class CandidateTiming
{
    private const int Dim = 64;

    public static int Run(string[] args)
    {
        var options = BenchOptions.Parse(args);

        var rows = int.Parse(options.GetValueOrDefault("rows", "1000000"), CultureInfo.InvariantCulture);
        var count = int.Parse(options.GetValueOrDefault("queries", "2000"), CultureInfo.InvariantCulture);
        var random = new Random(5);
        var centres = new float[2_000 * Dim];
        for (var i = 0; i < centres.Length; i++)
        {
            centres[i] = (float)(random.NextDouble() - 0.5);
        }

        var vectors = new float[(long)rows * Dim];
        for (var row = 0; row < rows; row++)
        {
            var centre = random.Next(2_000);
            for (var d = 0; d < Dim; d++)
            {
                vectors[((long)row * Dim) + d] = centres[(centre * Dim) + d] + ((float)(random.NextDouble() - 0.5) * 0.4f);
            }
        }

        var index = new ItemVectorIndex("timing", Dim);
        index.Set([.. Enumerable.Range(0, rows).Select(i => $"item-{i}")], vectors);
        var watch = Stopwatch.StartNew();
        var build = index.BeginAnn();
        var ivf = InvertedFileIndex.Build(index, index.Count);
        index.AttachAnn(ivf, build);
        Console.WriteLine($"{rows:N0} rows: inverted file built in {watch.Elapsed.TotalSeconds:0.0} s, reading {ivf.Probe} of its {ivf.Lists} lists");

        var queries = Enumerable.Range(0, count).Select(_ =>
        {
            var near = index.Vector(random.Next(rows)).ToArray();
            return near.Select(v => (v * 2) + ((float)(random.NextDouble() - 0.5) * 0.2f)).ToArray();
        }).ToArray();
        var query = new CandidateQuery(["item-1"], null, 70);
        var checksum = 0.0;
        for (var repetition = 0; repetition < 5; repetition++)
        {
            watch.Restart();
            foreach (var session in queries)
            {
                var into = new List<Candidate>(70);
                new ModelRankerSource(index, session, null, new FusionWeights(0, 0), annCandidates: 400).Collect(query, 70, into);
                checksum += into[0].Score;
            }

            var ranking = watch.Elapsed.TotalMicroseconds / count;
            watch.Restart();
            foreach (var session in queries)
            {
                checksum += ivf.Candidates(session, 400).Length;
            }

            var candidates = watch.Elapsed.TotalMicroseconds / count;
            watch.Restart();
            foreach (var session in queries)
            {
                checksum += ivf.Search(session, 100).Length;
            }

            Console.WriteLine(FormattableString.Invariant(
                $"repetition {repetition + 1}: ranking over candidates {ranking:0.0} µs, candidates alone {candidates:0.0} µs, ordered top 100 {watch.Elapsed.TotalMicroseconds / count:0.0} µs a query (checksum {checksum:0.000})"));
        }

        return 0;
    }
}
