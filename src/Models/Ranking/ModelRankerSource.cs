namespace SessionRec.Models.Ranking;

using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Serving;

/// <summary>
/// The production ranking stage as a candidate source: for every catalogue item, the model's score (session
/// vector · item vector) plus, over the last three session items (nearer items weighing more), the co-occurrence
/// weight × log(1 + how often the item followed) and the item-kNN weight × cosine similarity of the two items'
/// sessions, plus the popularity weight × log(1 + interactions), plus the new-item weight for items nobody has
/// interacted with yet (they lack every other term; tuned so they can still compete) — the formula `sessionrec
/// eval recs` measures as "ranker", with the weights `sessionrec train` tuned on validation. Built per request
/// around one session vector.
/// </summary>
/// <param name="popularityPrior">log(1 + interactions) per index row, when the caller keeps it between requests;
/// null computes it from <paramref name="statistics"/>.</param>
public sealed class ModelRankerSource(ItemVectorIndex index, float[] session, InteractionStatistics? statistics, FusionWeights weights, float[]? popularityPrior = null, int lookback = 3) : ICandidateSource
{
    public const string SourceName = "model";

    public string Name => SourceName;

    /// <summary>log(1 + interactions) of each index row's item.</summary>
    public static float[] PopularityPrior(ItemVectorIndex index, InteractionStatistics statistics)
    {
        var prior = new float[index.Count];
        for (var item = 0; item < statistics.ItemCount; item++)
        {
            if (index.TryGetRow(statistics.IdOf(item), out var row))
            {
                prior[row] = MathF.Log(1 + statistics.Count(item));
            }
        }

        return prior;
    }

    public void Collect(CandidateQuery query, int limit, List<Candidate> into)
    {
        var scores = new float[index.Count];
        index.Score(session, scores);
        var boosted = new HashSet<int>();
        if (statistics is not null && (weights.Popularity != 0 || weights.NewItem != 0))
        {
            var prior = popularityPrior ?? PopularityPrior(index, statistics);
            for (var row = 0; row < Math.Min(prior.Length, scores.Length); row++)
            {
                // prior = log(1 + interactions) is 0 exactly for an item without interactions.
                scores[row] += prior[row] == 0 ? weights.NewItem : weights.Popularity * prior[row];
            }

            for (var row = prior.Length; row < scores.Length; row++)
            {
                scores[row] += weights.NewItem; // added to the index after the prior was computed: new
            }
        }

        if (statistics is not null && (weights.Cooccurrence > 0 || weights.ItemKnn > 0))
        {
            var anchors = 0;
            for (var i = query.SessionItems.Count - 1; i >= 0 && anchors < lookback; i--)
            {
                if (!statistics.TryGetIndex(query.SessionItems[i], out var anchor))
                {
                    continue;
                }

                var nearness = 1f / ++anchors;
                if (weights.Cooccurrence > 0)
                {
                    foreach (var (item, count) in statistics.After(anchor))
                    {
                        if (index.TryGetRow(statistics.IdOf(item), out var row))
                        {
                            scores[row] += nearness * weights.Cooccurrence * MathF.Log(1 + count);
                            boosted.Add(row);
                        }
                    }
                }

                if (weights.ItemKnn > 0)
                {
                    var anchorCount = statistics.Count(anchor);
                    foreach (var (item, together) in statistics.Together(anchor))
                    {
                        if (index.TryGetRow(statistics.IdOf(item), out var row))
                        {
                            scores[row] += nearness * weights.ItemKnn * together / MathF.Sqrt(anchorCount * statistics.Count(item));
                            boosted.Add(row);
                        }
                    }
                }
            }
        }

        foreach (var (row, score) in TopK.Select(scores, limit))
        {
            into.Add(new Candidate(index.IdOf(row), score, boosted.Contains(row) ? "fits the session; often chosen after its items" : "fits the session"));
        }
    }
}
