namespace SessionRec.Models.Evaluation;

using SessionRec.Models.Baseline;

/// <summary>
/// A model as the harness runs it: fitted on a split for a phase (training parts for validation, training and
/// validation parts for test), then scored. Neural models train in <c>Fit</c>; baselines count.
/// </summary>
public interface IRecommenderCandidate
{
    string Name { get; }

    ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken);
}

/// <summary>A candidate built by a function (the baselines).</summary>
public sealed class FunctionCandidate(string name, Func<IReadOnlyList<int[]>, int, ISequenceScorer> build) : IRecommenderCandidate
{
    public string Name => name;

    public ISequenceScorer Fit(LeaveOneOutSplit split, Phase phase, IProgress<string>? progress, CancellationToken cancellationToken) =>
        build(split.FitSequences(phase), split.ItemCount);

    /// <summary>The baselines of the results table: name and how each is fitted on sequences over n items.</summary>
    public static readonly IReadOnlyList<(string Name, Func<IReadOnlyList<int[]>, int, ISequenceScorer> Build)> BaselineScorers =
    [
        ("pop", (s, n) => new PopularityScorer(s, n)),
        ("cooccurrence", (s, n) => new TransitionScorer(s, n)),
        ("itemknn", (s, n) => new ItemKnnScorer(s, n)),
        ("vsknn", (s, n) => new VsknnScorer(s, n)),
    ];

    public static IReadOnlyList<IRecommenderCandidate> Baselines() => [.. BaselineScorers.Select(b => new FunctionCandidate(b.Name, b.Build))];
}

/// <summary>
/// `sessionrec eval recs`: every candidate on the test split (slices all and cold), and on a split with 5% of the
/// items held out of training entirely (slice new-items: users whose target is one of those items).
/// </summary>
public sealed class RecsEvaluation(LeaveOneOutSplit split, double newItemFraction = 0.05, int seed = 7)
{
    public const int ColdThreshold = 5;

    /// <summary>Users sampled for the <c>new-items-others</c> slice: those of the new-item split whose target is not new.</summary>
    public const int OthersSample = 5_000;

    public const string Protocol = "leave-one-out (last item test, second-last validation), full ranking over all items, history masked, ties counted against the target";

    private (LeaveOneOutSplit Split, IReadOnlyList<int> Users, IReadOnlySet<int> HeldOut)? _holdout;

    // Every row's ranks (the users of a slice are the same, in the same order, for every model), kept for the paired
    // differences from the best baseline: 4 bytes per user and row.
    private readonly Dictionary<(string Model, string Slice), int[]> _ranks = [];
    private readonly HashSet<string> _baselines = new(StringComparer.Ordinal);

    // The differences of a row against the baselines evaluated so far: results are rewritten after every model, and
    // a paired bootstrap per row and baseline need not run again until another baseline joins.
    private readonly Dictionary<(string Model, string Slice, int Baselines), IReadOnlyDictionary<string, BaselineDifference>> _differences = [];

    /// <summary>Users whose test target occurs at most <see cref="ColdThreshold"/> times in the training parts.</summary>
    public IReadOnlyList<int> ColdUsers()
    {
        var counts = split.ItemCounts(Phase.Validation);
        return [.. Enumerable.Range(0, split.UserCount).Where(u => counts[split.Test[u]] <= ColdThreshold)];
    }

    public (LeaveOneOutSplit Split, IReadOnlyList<int> Users, IReadOnlySet<int> HeldOut) NewItemSplit() =>
        _holdout ??= split.HoldOutItems(newItemFraction, seed);

    public IEnumerable<ResultRow> Run(IRecommenderCandidate candidate, bool newItems, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (candidate is FunctionCandidate)
        {
            _baselines.Add(candidate.Name);
        }

        var scorer = candidate.Fit(split, Phase.Test, progress, cancellationToken);
        var ranks = Evaluator.Ranks(scorer, split, Phase.Test, progress: Users(progress, candidate.Name, "all"), cancellationToken: cancellationToken);
        var all = Row(candidate.Name, "all", ranks) with { Note = (scorer as Ranking.FusedScorer)?.Weights };
        yield return all with { Metrics = new Dictionary<string, double>(all.Metrics) { [DiversityMetric] = Math.Round(Diversity(scorer), 2) } };
        var cold = ColdUsers();
        yield return Row(candidate.Name, "cold", [.. cold.Select(u => ranks[u])]);
        if (newItems)
        {
            var (heldOutSplit, users, _) = NewItemSplit();
            var heldOutScorer = candidate.Fit(heldOutSplit, Phase.Test, progress, cancellationToken);
            yield return Row(candidate.Name, "new-items", Evaluator.Ranks(heldOutScorer, heldOutSplit, Phase.Test, users, cancellationToken: cancellationToken));

            // The same catalogue seen by everyone else: whatever lifts new items must not bury their targets.
            var targets = users.ToHashSet();
            var others = Enumerable.Range(0, heldOutSplit.UserCount).Where(u => !targets.Contains(u)).OrderBy(u => (u * 2654435761u) % 1000003).Take(OthersSample).ToList();
            yield return Row(candidate.Name, "new-items-others", Evaluator.Ranks(heldOutScorer, heldOutSplit, Phase.Test, others, cancellationToken: cancellationToken));
        }
    }

    private ResultRow Row(string model, string slice, int[] ranks)
    {
        _ranks[(model, slice)] = ranks;
        return ResultsFile.Row(model, slice, ranks);
    }

    /// <summary>
    /// <paramref name="row"/> with, for every ranking metric, its difference from the best baseline evaluated so far
    /// on the same slice (the baseline with the highest mean on that metric) and the paired-bootstrap interval of
    /// that difference; a baseline's row, or a row with no baseline beside it, is returned as it is.
    /// </summary>
    public ResultRow CompareWithBestBaseline(ResultRow row)
    {
        if (_baselines.Contains(row.Model) || !_ranks.TryGetValue((row.Model, row.Slice), out var ranks))
        {
            return row;
        }

        var baselines = _baselines.Where(b => _ranks.ContainsKey((b, row.Slice))).Select(b => (Name: b, Ranks: _ranks[(b, row.Slice)])).Where(b => b.Ranks.Length == ranks.Length).ToList();
        if (baselines.Count == 0)
        {
            return row;
        }

        if (_differences.TryGetValue((row.Model, row.Slice, baselines.Count), out var known))
        {
            return row with { VsBestBaseline = known };
        }

        var means = baselines.Select(b => (b.Name, b.Ranks, Metrics: RankingMetrics.Compute(b.Ranks, resamples: 1))).ToList();
        var differences = new Dictionary<string, BaselineDifference>();
        var byBaseline = new Dictionary<string, IReadOnlyDictionary<string, MetricValue>>();
        foreach (var metric in means[0].Metrics.Keys)
        {
            // The first listed wins a tie, so the comparison is the same in every run of the same command.
            var best = means.MaxBy(b => b.Metrics[metric].Mean);
            if (!byBaseline.TryGetValue(best.Name, out var difference))
            {
                difference = RankingMetrics.Difference(ranks, best.Ranks);
                byBaseline[best.Name] = difference;
            }

            var d = difference[metric];
            differences[metric] = new BaselineDifference(best.Name, Math.Round(d.Mean, 4), Math.Round(d.Low, 4), Math.Round(d.High, 4));
        }

        _differences[(row.Model, row.Slice, baselines.Count)] = differences;
        return row with { VsBestBaseline = differences };
    }

    /// <summary>Distinct categories (full category paths) among a user's top 100, averaged over a fixed sample of users.</summary>
    public const string DiversityMetric = "Categories@100";

    public const int DiversitySample = 2_000;

    /// <summary>The mean number of distinct category paths in the top 100 of <see cref="DiversitySample"/> users (history masked).</summary>
    public double Diversity(ISequenceScorer scorer)
    {
        var paths = split.Dataset.Items.Select(i => string.Join(" > ", i.Categories)).ToArray();
        var users = Enumerable.Range(0, split.UserCount).OrderBy(u => (u * 2654435761u) % 1000003).Take(DiversitySample).ToArray();
        var counts = new int[users.Length];
        Parallel.For(0, users.Length, () => new float[split.ItemCount], (n, _, scores) =>
        {
            var history = split.History(users[n], Phase.Test);
            Array.Clear(scores);
            scorer.Score(users[n], history, scores);
            foreach (var h in history)
            {
                scores[h] = float.NegativeInfinity;
            }

            counts[n] = TopK.Select(scores, 100).Select(e => paths[e.Item]).Distinct(StringComparer.Ordinal).Count();
            return scores;
        }, _ => { });
        return counts.Length == 0 ? 0 : counts.Average();
    }

    private static Progress<int>? Users(IProgress<string>? progress, string model, string slice) =>
        progress is null ? null : new Progress<int>(n => progress.Report($"{model} {slice}: {n:N0} users ranked"));
}
