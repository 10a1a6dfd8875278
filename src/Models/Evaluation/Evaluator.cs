namespace SessionRec.Models.Evaluation;

/// <summary>
/// A model under evaluation: fills a score for every catalogue item given a user's history. Implementations are
/// called from several threads at once and must not share scratch state between calls.
/// </summary>
public interface ISequenceScorer
{
    string Name { get; }

    /// <param name="user">The user's index in the split, so neighbourhood models can skip the user's own row.</param>
    void Score(int user, ReadOnlySpan<int> history, Span<float> scores);
}

/// <summary>Full-ranking leave-one-out evaluation: every item is a candidate, the user's history is masked.</summary>
public static class Evaluator
{
    /// <summary>
    /// The 0-based rank of each user's target among all items, ties counted against the target (an item scored
    /// equal to the target ranks above it), the user's other history items excluded.
    /// </summary>
    public static int[] Ranks(
        ISequenceScorer scorer,
        LeaveOneOutSplit split,
        Phase phase,
        IReadOnlyList<int>? users = null,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var selected = users ?? Enumerable.Range(0, split.UserCount).ToArray();
        var ranks = new int[selected.Count];
        var done = 0;
        Parallel.For(
            0,
            selected.Count,
            new ParallelOptions { CancellationToken = cancellationToken },
            () => new float[split.ItemCount],
            (n, _, scores) =>
            {
                var u = selected[n];
                var history = split.History(u, phase);
                Array.Clear(scores);
                scorer.Score(u, history, scores);
                ranks[n] = Rank(scores, history, split.Target(u, phase));
                var count = Interlocked.Increment(ref done);
                if (count % 1000 == 0)
                {
                    progress?.Report(count);
                }

                return scores;
            },
            _ => { });
        progress?.Report(selected.Count);
        return ranks;
    }

    public static int Rank(ReadOnlySpan<float> scores, ReadOnlySpan<int> history, int target)
    {
        var t = scores[target];
        var rank = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            // NaN never ranks below the target: a broken score must not look good.
            if (i != target && !(scores[i] < t))
            {
                rank++;
            }
        }

        foreach (var h in history)
        {
            if (h != target && !(scores[h] < t))
            {
                rank--;
            }
        }

        return rank;
    }
}
