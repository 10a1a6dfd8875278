namespace SessionRec.Training.Evaluation;

using SessionRec.Models.Evaluation;
using SessionRec.Models.Serving;

/// <summary>
/// `ranker-candidates`: the ranker as the service runs it on a large catalogue — the session vector retrieves
/// <paramref name="candidates"/> items from an approximate nearest-neighbour index of the item vectors (the service's
/// <see cref="AnnIndex"/> with its default settings), every item a co-occurrence, item-kNN or session-kNN term names joins them,
/// and only those are ranked, with the same fused scores as `ranker` (the same model and weights). The difference
/// between the two rows is what ranking candidates instead of the whole catalogue costs.
/// </summary>
public sealed class CandidateRankerCandidate(string name, M2TRecOptions options, TrainingCache cache, int candidates = 400) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var model = cache.Get(split, options, progress, name, cancellationToken);
        var weights = cache.Weights(model, split, floors: true, progress);
        var fused = FusionTuning.Ranker(name, model, split, phase, weights);

        var dim = model.Module.Options.Dim;
        var vectors = new ItemVectorIndex("evaluation", dim);
        vectors.Set([.. Enumerable.Range(0, split.ItemCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], M2TRecTrainer.ScoringMatrix(model));
        var ann = AnnIndex.Build(vectors, vectors.Count);
        progress?.Report($"{name}: approximate index of {ann.Rows:N0} item vectors, recall@100 against the exact scan {ann.MeasureRecall(vectors):0.000}");

        var histories = Enumerable.Range(0, split.UserCount).Select(u => split.History(u, phase)).ToArray();
        var sessions = M2TRecTrainer.SessionVectors(model, histories);
        var sources = FusionTuning.Sources(split.FitSequences(phase), split.ItemCount, split.Unreleased);
        var w = FusionTuning.Weights(weights);
        ISequenceScorer[] sparse = [.. new[] { 0, 1, 4 }.Where(k => w[k] != 0).Select(k => sources[k])];
        return new CandidateOnlyScorer(name, fused, ann, sessions, dim, candidates, sparse);
    }
}

/// <summary>
/// Scores of <paramref name="fused"/> for the candidates of each user, −∞ for every other item: the approximate
/// index's <paramref name="candidates"/> nearest items to the user's session vector, and every item a sparse term
/// names (scored above what it gives with no history: item-kNN's popularity back-off covers every item).
/// </summary>
public sealed class CandidateOnlyScorer : ISequenceScorer
{
    private readonly ISequenceScorer _fused;
    private readonly AnnIndex _ann;
    private readonly float[] _sessions;
    private readonly int _dim;
    private readonly int _candidates;
    private readonly (ISequenceScorer Source, float[] Unnamed)[] _sparse;

    public CandidateOnlyScorer(string name, ISequenceScorer fused, AnnIndex ann, float[] sessions, int dim, int candidates, IReadOnlyList<ISequenceScorer> sparse)
    {
        Name = name;
        _fused = fused;
        _ann = ann;
        _sessions = sessions;
        _dim = dim;
        _candidates = candidates;
        _sparse = [.. sparse.Select(source =>
        {
            var unnamed = new float[ann.Rows];
            source.Score(0, [], unnamed);
            return (source, unnamed);
        })];
    }

    public string Name { get; }

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        var keep = new bool[scores.Length];
        foreach (var row in _ann.Search(_sessions.AsSpan(user * _dim, _dim).ToArray(), _candidates))
        {
            keep[row] = true;
        }

        var terms = new float[scores.Length];
        foreach (var (source, unnamed) in _sparse)
        {
            Array.Clear(terms);
            source.Score(user, history, terms);
            for (var i = 0; i < terms.Length; i++)
            {
                keep[i] |= terms[i] > unnamed[i];
            }
        }

        _fused.Score(user, history, scores);
        for (var i = 0; i < scores.Length; i++)
        {
            if (!keep[i])
            {
                scores[i] = float.NegativeInfinity;
            }
        }
    }
}
