namespace SessionRec.Models.Ranking;

using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Serving;

/// <summary>
/// The production ranking stage as a candidate source: for every catalogue item, the model's score (session
/// vector · item vector) plus the fusion weight × Σ over the last items of log(1 + co-occurrence), nearer items
/// weighing more — the formula `sessionrec eval recs` measures as "ranker", with the weight `sessionrec train`
/// tuned on validation. Built per request around one session vector.
/// </summary>
public sealed class ModelRankerSource(ItemVectorIndex index, float[] session, InteractionStatistics? statistics, float cooccurrenceWeight, int lookback = 3) : ICandidateSource
{
    public const string SourceName = "model";

    public string Name => SourceName;

    public void Collect(CandidateQuery query, int limit, List<Candidate> into)
    {
        var scores = new float[index.Count];
        index.Score(session, scores);
        var boosted = new HashSet<int>();
        if (statistics is not null && cooccurrenceWeight > 0)
        {
            var anchors = 0;
            for (var i = query.SessionItems.Count - 1; i >= 0 && anchors < lookback; i--)
            {
                if (!statistics.TryGetIndex(query.SessionItems[i], out var anchor))
                {
                    continue;
                }

                var weight = cooccurrenceWeight / ++anchors;
                foreach (var (item, count) in statistics.After(anchor))
                {
                    if (index.TryGetRow(statistics.IdOf(item), out var row))
                    {
                        scores[row] += weight * MathF.Log(1 + count);
                        boosted.Add(row);
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
