namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;

public sealed class ModelRankerSourceTests
{
    private static ItemVectorIndex Index(bool cosine = false)
    {
        // Items a, b, c share one vector direction (equal model scores for a session along it); d points away.
        var index = new ItemVectorIndex("v", 2, cosine);
        index.Set(["a", "b", "c", "d"], [1, 0, 1, 0, 1, 0, -1, 0]);
        return index;
    }

    private static List<Candidate> Rank(ItemVectorIndex index, InteractionStatistics statistics, FusionWeights weights, params string[] session)
    {
        var into = new List<Candidate>();
        new ModelRankerSource(index, [1, 0], statistics, weights).Collect(new CandidateQuery(session, null, 10), 10, into);
        return into;
    }

    [Fact]
    public void Fusion_weights_decide_between_equal_model_scores()
    {
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        // c followed a twice; b was seen with a once, long ago in another order.
        statistics.Observe("a", 1, at, []);
        statistics.Observe("c", 1, at, ["a"]);
        statistics.Observe("a", 1, at, []);
        statistics.Observe("c", 1, at, ["a"]);
        statistics.Observe("b", 1, at, []);
        statistics.Observe("a", 1, at, ["b"]);
        Assert.Equal(2, statistics.Together(0)[1]);
        Assert.Equal(3, statistics.Count(0));

        var modelOnly = Rank(Index(), statistics, new FusionWeights(0, 0), "a");
        Assert.Equal("d", modelOnly[^1].ItemId);
        Assert.Equal(modelOnly[0].Score, modelOnly[1].Score);

        var fused = Rank(Index(), statistics, new FusionWeights(1, 0), "a");
        Assert.Equal("c", fused[0].ItemId);
        Assert.Equal(1 + MathF.Log(3), (float)fused[0].Score, 4);

        // Item-kNN alone: b and c both co-occur with a; c twice of its 2, b once of its 1.
        var knn = Rank(Index(), statistics, new FusionWeights(0, 1), "a");
        Assert.Equal(1 + (2 / MathF.Sqrt(3 * 2)), (float)knn.Single(c => c.ItemId == "c").Score, 4);
        Assert.Equal(1 + (1 / MathF.Sqrt(3 * 1)), (float)knn.Single(c => c.ItemId == "b").Score, 4);
    }

    [Fact]
    public void A_negative_popularity_weight_lifts_rare_items()
    {
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < 20; i++)
        {
            statistics.Observe("b", 1, at, []);
        }

        statistics.Observe("c", 1, at, []);
        var ranked = Rank(Index(), statistics, new FusionWeights(0, 0, -0.5f), "a");
        Assert.Equal(["a", "c", "b", "d"], ranked.Select(c => c.ItemId));
        Assert.Equal(1 - (0.5f * MathF.Log(21)), (float)ranked[2].Score, 4);
    }

    [Fact]
    public void The_new_item_weight_lets_items_without_interactions_compete()
    {
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        for (var i = 0; i < 3; i++)
        {
            statistics.Observe("b", 1, at, []);
            statistics.Observe("c", 1, at, []);
        }

        // a and d were never interacted with: without the new-item term the popular ones come first.
        var plain = Rank(Index(), statistics, new FusionWeights(0, 0, 0.5f), "b");
        Assert.Equal(["b", "c", "a", "d"], plain.Select(c => c.ItemId));

        var lifted = Rank(Index(), statistics, new FusionWeights(0, 0, 0.5f, NewItem: 1), "b");
        Assert.Equal(["a", "b", "c", "d"], lifted.Select(c => c.ItemId));
        Assert.Equal(2f, (float)lifted[0].Score, 4);
        Assert.Equal(1 + (0.5f * MathF.Log(4)), (float)lifted[1].Score, 4);
        Assert.Equal(0f, (float)lifted[3].Score, 4);
    }

    [Fact]
    public void Cosine_scoring_ignores_item_vector_length()
    {
        var index = new ItemVectorIndex("v", 2, cosine: true);
        index.Set(["long", "short"], [10, 0, 0.5f, 0.1f]);
        var scores = new float[2];
        index.Score([1, 0], scores);
        Assert.Equal(1f, scores[0], 5);
        Assert.Equal(0.5f / MathF.Sqrt(0.26f), scores[1], 5);
        Assert.Equal([10f, 0f], index.SessionInput(["long"], 10, out var length)!);
        Assert.Equal(1, length);
    }
}
