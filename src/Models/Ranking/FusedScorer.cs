namespace SessionRec.Models.Ranking;

using SessionRec.Models.Evaluation;

/// <summary>Scores from an embedding model: the dot product of a precomputed user vector with each item vector.</summary>
public sealed class EmbeddingScorer(string name, float[] itemMatrix, float[] userVectors, int dim) : ISequenceScorer
{
    public string Name => name;

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        var u = userVectors.AsSpan(user * dim, dim);
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = VectorMath.Dot(u, itemMatrix.AsSpan(i * dim, dim));
        }
    }
}

/// <summary>The ranking stage: a base model's scores plus weighted scores of other sources (weights tuned on validation).</summary>
public sealed class FusedScorer(string name, ISequenceScorer model, IReadOnlyList<(ISequenceScorer Source, float Weight)> sources) : ISequenceScorer
{
    public string Name => name;

    /// <summary>The weights in words, for results files: "weights: model 1, log-cooccurrence 4, ...".</summary>
    public string Weights => "weights: " + string.Join(", ", ["model 1", .. sources.Select(s => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{s.Source.Name} {s.Weight}"))]);

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        model.Score(user, history, scores);
        if (sources.Count == 0)
        {
            return;
        }

        var extra = new float[scores.Length];
        foreach (var (source, weight) in sources)
        {
            if (weight == 0)
            {
                continue;
            }

            Array.Clear(extra);
            source.Score(user, history, extra);
            for (var i = 0; i < scores.Length; i++)
            {
                scores[i] += weight * extra[i];
            }
        }
    }
}
