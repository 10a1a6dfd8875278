namespace SessionRec.Models.Tests;

using SessionRec.Models.Baseline;

/// <summary>The ranking's order as 64-bit keys (<see cref="RankKey"/>): the same order as comparing pairs, and lossless.</summary>
public sealed class RankKeyTests
{
    [Fact(Timeout = 10_000)]
    public void Keys_sort_highest_score_first_ties_to_the_lower_item_and_give_back_item_and_score()
    {
        var random = new Random(5);
        float[] special = [0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity];
        var pairs = Enumerable.Range(0, 5_000)
            .Select(i => (Item: random.Next(2_000_000), Score: i < 1_000 ? special[random.Next(special.Length)] : (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 8)))))
            .ToArray();

        var keys = pairs.Select(p => RankKey.Of(p.Score, p.Item)).ToArray();
        Array.Sort(keys);

        var expected = pairs.OrderByDescending(p => p.Score + 0f).ThenBy(p => p.Item).ToArray();
        Assert.Equal(expected.Select(p => p.Item), keys.Select(RankKey.Item));
        Assert.Equal(expected.Select(p => p.Score + 0f), keys.Select(RankKey.Score));
    }

    [Fact(Timeout = 10_000)]
    public void The_best_keys_come_first_in_order_whatever_the_rest_and_with_ties()
    {
        var random = new Random(8);
        foreach (var (length, count) in new[] { (900, 70), (900, 1), (65, 16), (10_000, 400), (50, 100), (2_000, 2_000) })
        {
            foreach (var distinct in new[] { 3, 1_000_000 })
            {
                var keys = Enumerable.Range(0, length).Select(i => RankKey.Of(random.Next(distinct), i)).ToArray();
                var expected = keys.Order().Take(count).ToArray();
                var copy = keys.ToArray();
                RankKey.SortBest(copy, count);
                Assert.Equal(expected, copy.Take(count));
                Assert.Equal(keys.Order(), copy.Order()); // nothing lost or duplicated
            }
        }
    }
}
