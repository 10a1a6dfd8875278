namespace SessionRec.Models.Tests;

using System.Numerics.Tensors;
using SessionRec.Models.Baseline;
using SessionRec.Models.Serving;

/// <summary>
/// The inverted file finds (nearly) the exact scan's top 100 for queries that are not item vectors — sums of a few
/// items, as session vectors are — on clustered vectors of unequal length, and reads only a share of the rows.
/// </summary>
public sealed class InvertedFileIndexTests
{
    private const int Dim = 32;

    private static ItemVectorIndex Clustered(int rows, int seed) =>
        ClusteredVectors.Index(ClusteredVectors.Make(new Random(seed), rows, Dim, centres: 60, spread: 0.35f, r => 0.5f + (float)r.NextDouble()), Dim, "item-", "v1");

    [Fact(Timeout = 30_000)]
    public void TheLeaningCosineEqualsTheCosineOfTheAngleLessTheReach()
    {
        // Angles and reaches over [0, π], the cosines past ±1 too (rounding can leave a dot product there).
        for (var a = 0; a <= 200; a++)
        {
            var x = -1.01f + (2.02f * a / 200);
            for (var r = 0; r <= 50; r++)
            {
                var reach = MathF.PI * r / 50;
                var expected = MathF.Cos(MathF.Max(0, MathF.Acos(Math.Clamp(x, -1f, 1f)) - reach));
                Assert.Equal(expected, InvertedFileIndex.LeaningCosine(x, MathF.Cos(reach), MathF.Sin(reach)), 1e-5f);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public void ReadingEveryListItFindsTheExactScansTopHundredFromItsInt8Codes()
    {
        // Every list probed: the int8 codes with their bounds, then the exact rescoring, must give the exact top 100.
        var index = Clustered(8_000, 3);
        var ivf = InvertedFileIndex.Build(index, index.Count);
        var random = new Random(4);
        var scores = new float[index.Count];
        for (var q = 0; q < 20; q++)
        {
            var query = Enumerable.Range(0, Dim).Select(_ => (float)((random.NextDouble() * 2) - 1) * (q % 2 == 0 ? 0.01f : 10f)).ToArray();
            index.Score(query, scores);
            var exact = TopK.Select(scores, 100);
            var found = ivf.Search(query, 100, ivf.Lists, out var scanned);
            Assert.Equal(index.Count, scanned);
            Assert.Equal(exact.Select(e => e.Item), found);
        }

        // A query of zeros has no codes: every probed row is scored exactly (all tie at 0: any 100 distinct rows).
        var zeros = ivf.Search(new float[Dim], 100, ivf.Lists, out _);
        Assert.Equal(100, zeros.Distinct().Count());
    }

    [Fact(Timeout = 120_000)]
    public void AnIndexCalibratedOnGivenSessionsReadsAsManyListsAsThoseSessionsNeed()
    {
        // Queries opposite a row stand for sessions that the default check's queries (item vectors, means of four) make
        // look easier than they are: given them too, the index reads more lists, until both pass (or a quarter is read),
        // on barely clustered rows (the default probe reads 40 of 316 lists).
        var index = ClusteredVectors.Index(ClusteredVectors.Make(new Random(11), 100_000, Dim, centres: 60, spread: 3f, r => 0.5f + (float)r.NextDouble()), Dim, "item-", "v1");
        var ivf = InvertedFileIndex.Build(index, index.Count);
        var random = new Random(12);
        float[] Opposite()
        {
            var query = index.Vector(random.Next(index.Count)).ToArray();
            TensorPrimitives.Negate(query, query);
            return query;
        }

        var sessions = RecallSample.Of(index, index.Count, Enumerable.Range(0, 20).Select(_ => Opposite()).ToList());
        Assert.Equal(20, sessions.Count);
        var probe = ivf.Probe;
        var before = sessions.Measure(ivf.Search);
        var plain = RecallSample.Of(index, index.Count, samples: 40).Measure(ivf.Search);
        Assert.True(before < plain, $"the sessions find {before} at the default probe, the default check {plain}: the test shows nothing");

        // A floor the default check passes where it is: only the sessions can make the index read more lists.
        var floor = plain - 1e-9;
        var after = ivf.Calibrate(index, floor, sessions);
        Assert.True(ivf.Probe > probe, $"probe {ivf.Probe}, was {probe}");
        Assert.True(after <= sessions.Measure(ivf.Search) + 1e-9, $"{after} reported, the sessions find {sessions.Measure(ivf.Search)}");
        Assert.True(after >= floor || ivf.Probe == ivf.Lists / 4, $"{after} at probe {ivf.Probe} of {ivf.Lists}");
    }

    [Fact(Timeout = 120_000)]
    public void ABuildOnOneThreadMakesTheSameIndexAsABuildOnFour()
    {
        // The service builds with a bounded number of threads (Recommendations:AnnBuildThreads): the lists must not
        // depend on how many there were.
        var index = Clustered(12_000, 7);
        var one = InvertedFileIndex.Build(index, index.Count, parallelism: 1);
        var four = InvertedFileIndex.Build(index, index.Count, parallelism: 4);
        Assert.Equal((one.Lists, one.Probe), (four.Lists, four.Probe));
        var random = new Random(8);
        for (var q = 0; q < 20; q++)
        {
            var query = Enumerable.Range(0, Dim).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            Assert.Equal(one.Search(query, 100, one.Probe, out var scannedOne), four.Search(query, 100, four.Probe, out var scannedFour));
            Assert.Equal(scannedOne, scannedFour);
        }
    }

    [Fact(Timeout = 120_000)]
    public void AnIndexShortOfTheRecallFloorReadsMoreListsUpToAQuarterAndKeepsThatProbeWhenSaved()
    {
        var index = Clustered(40_000, 5);
        var ivf = InvertedFileIndex.Build(index, index.Count);
        var probe = ivf.Probe;
        Assert.True(probe < ivf.Lists / 4, $"probe {probe} of {ivf.Lists}");

        // A floor it passes: the probe stays. One no index can pass: it widens to a quarter of the lists, no further.
        var atDefault = ivf.Calibrate(index, 0.5);
        Assert.Equal(probe, ivf.Probe);
        var widened = ivf.Calibrate(index, 1.01);
        Assert.Equal(ivf.Lists / 4, ivf.Probe);
        Assert.True(widened >= atDefault, $"{widened} < {atDefault}");

        var path = Path.Combine(Path.GetTempPath(), $"ivf-{Guid.NewGuid():N}");
        try
        {
            ivf.Save(path);
            Assert.Equal(ivf.Lists / 4, InvertedFileIndex.Load(path, index).Probe);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact(Timeout = 120_000)]
    public void AProbeSavedForListsRankedByCentroidsIsNotKeptWhenLoaded()
    {
        // A format 2 file's probe was calibrated when lists were ranked by their centroids alone: it no longer says how
        // many lists a search needs, so the index loads with the default probe (and the next build calibrates).
        var index = Clustered(40_000, 9);
        var ivf = InvertedFileIndex.Build(index, index.Count);
        ivf.Calibrate(index, 1.01);
        Assert.NotEqual(InvertedFileIndex.DefaultProbe(ivf.Lists), ivf.Probe);
        var path = Path.Combine(Path.GetTempPath(), $"ivf-{Guid.NewGuid():N}");
        try
        {
            ivf.Save(path);
            Assert.Equal(ivf.Probe, InvertedFileIndex.Load(path, index).Probe);
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                file.Write(BitConverter.GetBytes(2));
            }

            var old = InvertedFileIndex.Load(path, index);
            Assert.Equal((ivf.Lists, InvertedFileIndex.DefaultProbe(ivf.Lists)), (old.Lists, old.Probe));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact(Timeout = 120_000)]
    public void SessionLikeQueriesFindTheExactTopHundredReadingAShareOfTheRows()
    {
        var index = Clustered(60_000, 1);
        var ivf = InvertedFileIndex.Build(index, index.Count);
        Assert.True(ivf.Lists > 100, $"{ivf.Lists} lists");

        var random = new Random(2);
        var scores = new float[index.Count];
        double recall = 0, scanned = 0, candidateRecall = 0;
        const int Queries = 50;
        for (var q = 0; q < Queries; q++)
        {
            // A session: the mean of four random items' vectors, off the rows' manifold.
            var query = new float[Dim];
            for (var i = 0; i < 4; i++)
            {
                var row = index.Vector(random.Next(index.Count));
                for (var d = 0; d < Dim; d++)
                {
                    query[d] += row[d] / 4;
                }
            }

            index.Score(query, scores);
            var hundredth = (float)TopK.Select(scores, 100)[^1].Score - 1e-5f;
            var found = ivf.Search(query, 100, ivf.Probe, out var rows);
            Assert.Equal(found, ivf.Search(query, 100));
            recall += found.Count(r => scores[r] >= hundredth) / 100.0;
            scanned += rows;

            // The unordered candidates (the ranking stage's): 400 distinct rows by int8 score, holding what the
            // ordered search found of the exact top 100.
            var candidates = ivf.Candidates(query, 400);
            Assert.Equal(400, candidates.Distinct().Count());
            var inCandidates = candidates.Count(r => scores[r] >= hundredth);
            candidateRecall += inCandidates / 100.0;
            Assert.True(inCandidates >= found.Count(r => scores[r] >= hundredth), $"query {q}: {inCandidates} of the top 100 in 400 candidates, {found.Count(r => scores[r] >= hundredth)} in the search's 100");
        }

        Assert.True(recall / Queries >= 0.95, $"recall@100 {recall / Queries:0.000}");
        Assert.True(candidateRecall / Queries >= recall / Queries, $"candidates: {candidateRecall / Queries:0.000}");
        Assert.True(scanned / Queries < index.Count / 3.0, $"{scanned / Queries:N0} of {index.Count:N0} rows scored per query");
        Assert.True(ivf.MeasureRecall(index) >= 0.95);
    }

    [Fact(Timeout = 120_000)]
    public void SessionsWhoseTopHundredAreAFewLongRowsAmongManyShortOnesFindThemReadingAShareOfTheRows()
    {
        // A trained catalogue beside a larger one its model knows only by metadata (Beauty's 12,101 items among 988,000
        // added): the few long rows are the top of every session, scattered over lists that short rows dominate. Lists
        // ranked by their centroids alone found 0.932 here reading 2,849 rows, 0.954 reading 10,106 (on Beauty at 1M
        // rows, 0.917); chosen mostly by what their best row may score, 0.979 reading ~6,000.
        var random = new Random(21);

        // Every row has a metadata part (catalogue-wide clusters); the trained ones add a learned part, longer, along
        // tastes of their own.
        var vectors = ClusteredVectors.Make(random, 100_000, Dim, centres: 60, spread: 0.35f, r => 0.5f + (0.5f * (float)r.NextDouble()));
        var learned = ClusteredVectors.Make(random, 1_200, Dim, centres: 30, spread: 1f, r => 3f);
        TensorPrimitives.Add(vectors.AsSpan(0, learned.Length), learned, vectors.AsSpan(0, learned.Length));
        var index = ClusteredVectors.Index(vectors, Dim, "item-", "v1");
        var longRows = Enumerable.Range(0, 1_200).ToArray();
        var ivf = InvertedFileIndex.Build(index, index.Count);
        var scores = new float[index.Count];
        double recall = 0, scanned = 0;
        const int Queries = 50;
        for (var q = 0; q < Queries; q++)
        {
            // A session: a long row and the three long rows nearest it in angle (what a user browses is alike).
            var first = longRows[random.Next(longRows.Length)];
            var query = new float[Dim];
            foreach (var row in longRows.OrderByDescending(r => TensorPrimitives.CosineSimilarity(index.Vector(r), index.Vector(first))).Take(4))
            {
                TensorPrimitives.Add(query, index.Vector(row), query);
            }

            index.Score(query, scores);
            var top = TopK.Select(scores, 100);
            Assert.True(top.Count(t => longRows.Contains(t.Item)) >= 90, "the long rows are not the top: the test shows nothing");
            var hundredth = (float)top[^1].Score - 1e-5f;
            var found = ivf.Search(query, 100, ivf.Probe, out var rows);
            recall += found.Count(r => scores[r] >= hundredth) / 100.0;
            scanned += rows;
        }

        Assert.True(recall / Queries >= 0.97, $"recall@100 {recall / Queries:0.000} reading {scanned / Queries:N0} rows at probe {ivf.Probe} of {ivf.Lists}");
        Assert.True(scanned / Queries < index.Count / 10.0, $"{scanned / Queries:N0} of {index.Count:N0} rows scored per query");
    }
}
