namespace SessionRec.Models.Tests;

using SessionRec.Models.Pipeline;

public sealed class RecommendationPipelineTests
{
    /// <summary>A source that answers a fixed list, in the order given (best first when the test means it so).</summary>
    private sealed class ListSource(string name, IReadOnlyList<Candidate> candidates) : ICandidateSource
    {
        public string Name => name;

        public void Collect(CandidateQuery query, int limit, List<Candidate> into) => into.AddRange(candidates.Take(limit));
    }

    [Fact]
    public void One_source_lists_exactly_what_merging_lists_with_ties_exclusions_too_few_and_lists_out_of_order()
    {
        var random = new Random(11);
        var shortcuts = 0;
        for (var trial = 0; trial < 3_000; trial++)
        {
            var k = random.Next(1, 12);
            var n = random.Next(0, 40);
            var levels = random.Next(1, 6); // few distinct scores: many ties
            var scores = Enumerable.Range(0, n).Select(_ => (double)random.Next(-1, levels)).OrderDescending().ToList();
            var kind = random.Next(10);
            if (kind == 0 && n > 1)
            {
                (scores[0], scores[^1]) = (scores[^1], scores[0]); // out of order
            }
            else if (kind == 1 && n > 0)
            {
                scores[random.Next(n)] = double.NaN;
            }

            // Distinct items in a random id order (ties are then broken by id, not by position).
            var ids = Enumerable.Range(0, n).Select(i => $"i{random.Next(1_000_000):D6}-{i}").ToList();
            var candidates = ids.Select((id, i) => new Candidate(id, scores[i], $"r{i}")).ToList();
            var excluded = ids.Where(_ => random.Next(4) == 0).ToHashSet();
            var weight = random.Next(3) == 0 ? 0.5 : 1.0;
            var fallback = new ListSource("fallback", [new("f1", 2, "f"), new("f2", 1, "f"), new(ids.FirstOrDefault() ?? "f3", 1, "f")]);
            var query = new CandidateQuery([], null, k);

            var calls = 0;
            var one = new RecommendationPipeline([(new ListSource("model", candidates), weight)], fallback)
                .Recommend(query, id => { calls++; return excluded.Contains(id); });

            // The general path: the same source and one that finds nothing merge to the same list.
            var merged = new RecommendationPipeline([(new ListSource("model", candidates), weight), (new ListSource("none", []), 1.0)], fallback)
                .Recommend(query, excluded.Contains);

            Assert.Equal(merged.Select(r => (r.ItemId, r.Score, r.Source, r.Reason)), one.Select(r => (r.ItemId, r.Score, r.Source, r.Reason)));
            if (calls < n)
            {
                shortcuts++;
            }
        }

        // The shortcut ran in a good share of the trials (it is what is being compared), and it checked fewer exclusions.
        Assert.InRange(shortcuts, 500, 3_000);
    }

    [Fact]
    public void One_source_checks_exclusions_only_until_the_list_is_full()
    {
        var candidates = Enumerable.Range(0, 70).Select(i => new Candidate($"i{i:D2}", 100 - i, "r")).ToList();
        var checkedIds = new List<string>();

        var ranked = new RecommendationPipeline([(new ListSource("model", candidates), 1.0)])
            .Recommend(new CandidateQuery([], null, 20), id => { checkedIds.Add(id); return id == "i03"; });

        Assert.Equal(candidates.Select(c => c.ItemId).Where(id => id != "i03").Take(20), ranked.Select(r => r.ItemId));
        Assert.Equal(21, checkedIds.Count);
    }
}
