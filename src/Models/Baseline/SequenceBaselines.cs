namespace SessionRec.Models.Baseline;

using SessionRec.Models.Evaluation;

/// <summary>Most popular items (interaction counts in the fitted sequences).</summary>
public sealed class PopularityScorer(IReadOnlyList<int[]> sequences, int items) : ISequenceScorer
{
    private readonly float[] _counts = Counts(sequences, items);

    public string Name => "pop";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores) => _counts.CopyTo(scores);

    public static float[] Counts(IReadOnlyList<int[]> sequences, int items)
    {
        var counts = new float[items];
        foreach (var s in sequences)
        {
            foreach (var i in s)
            {
                counts[i]++;
            }
        }

        return counts;
    }
}

/// <summary>
/// Last-item transitions: how often each item directly followed the user's last item, with popularity as a
/// back-off that only orders the items the transitions leave tied.
/// </summary>
public sealed class TransitionScorer(IReadOnlyList<int[]> sequences, int items) : ISequenceScorer
{
    private readonly SparseItemMatrix _transitions = SparseItemMatrix.Transitions(sequences, items);
    private readonly float[] _backoff = BackOff(PopularityScorer.Counts(sequences, items));

    public string Name => "cooccurrence";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        _backoff.CopyTo(scores);
        if (history.Length > 0)
        {
            _transitions.AddRow(history[^1], 1, scores);
        }
    }

    /// <summary>Popularity scaled below 1, so one transition outweighs any popularity.</summary>
    internal static float[] BackOff(float[] counts)
    {
        var max = counts.Length == 0 ? 1 : Math.Max(1, counts.Max());
        return [.. counts.Select(c => 0.5f * c / max)];
    }
}

/// <summary>
/// Item-kNN: cosine similarity between items' sets of users (co-occurrence in a sequence over the square root of
/// the two items' counts), summed over the user's last <c>lastItems</c> items, nearer items weighing more.
/// </summary>
public sealed class ItemKnnScorer : ISequenceScorer
{
    private readonly SparseItemMatrix _similarity;
    private readonly float[] _backoff;
    private readonly int _lastItems;

    /// <param name="window">Pairs counted within this many positions (0: anywhere in the sequence).</param>
    public ItemKnnScorer(IReadOnlyList<int[]> sequences, int items, int lastItems = 3, int window = 0)
    {
        var counts = PopularityScorer.Counts(sequences, items);
        _similarity = SparseItemMatrix.Cooccurrence(sequences, items, window, symmetric: true)
            .Map((a, b, v) => v / MathF.Sqrt(counts[a] * counts[b]));
        _backoff = [.. TransitionScorer.BackOff(counts).Select(v => v * 1e-3f)];
        _lastItems = lastItems;
    }

    public string Name => "itemknn";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        _backoff.CopyTo(scores);
        var n = Math.Min(_lastItems, history.Length);
        for (var p = 0; p < n; p++)
        {
            _similarity.AddRow(history[^(p + 1)], 1f / (p + 1), scores);
        }
    }
}

/// <summary>
/// V-SKNN (Ludewig and Jannach, 2018): the user's sequence, weighted by position (linear decay from the most
/// recent item), is compared with past sequences that share an item; of the <c>sample</c> most recent of those,
/// the <c>k</c> most similar vote for their items with their similarity.
/// </summary>
public sealed class VsknnScorer : ISequenceScorer
{
    private readonly IReadOnlyList<int[]> _sequences;
    private readonly int[][] _sequencesOfItem;
    private readonly float[] _backoff;
    private readonly int _k;
    private readonly int _sample;

    /// <param name="sequences">Past sequences; their order is their recency (later = more recent).</param>
    public VsknnScorer(IReadOnlyList<int[]> sequences, int items, int k = 100, int sample = 500)
    {
        _sequences = sequences;
        var lists = new List<int>[items];
        for (var s = 0; s < sequences.Count; s++)
        {
            foreach (var i in sequences[s])
            {
                (lists[i] ??= []).Add(s);
            }
        }

        _sequencesOfItem = [.. lists.Select(l => l is null ? Array.Empty<int>() : [.. l])];
        _backoff = [.. TransitionScorer.BackOff(PopularityScorer.Counts(sequences, items)).Select(v => v * 1e-3f)];
        _k = k;
        _sample = sample;
    }

    public string Name => "vsknn";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        _backoff.CopyTo(scores);
        if (history.Length == 0)
        {
            return;
        }

        var weights = new Dictionary<int, float>(history.Length);
        for (var p = 0; p < history.Length; p++)
        {
            weights[history[p]] = (p + 1f) / history.Length;
        }

        // Candidate sequences: those sharing an item, the most recent first; the user's own row is not a neighbour.
        var candidates = new HashSet<int>();
        foreach (var i in history)
        {
            foreach (var s in _sequencesOfItem[i])
            {
                if (s != user)
                {
                    candidates.Add(s);
                }
            }
        }

        var sampled = candidates.Order().TakeLast(_sample);
        var neighbours = new List<(int Sequence, float Similarity)>();
        foreach (var s in sampled)
        {
            float dot = 0;
            foreach (var i in _sequences[s])
            {
                dot += weights.GetValueOrDefault(i);
            }

            neighbours.Add((s, dot / MathF.Sqrt(history.Length * (float)_sequences[s].Length)));
        }

        foreach (var (s, similarity) in neighbours.OrderByDescending(n => n.Similarity).Take(_k))
        {
            foreach (var i in _sequences[s])
            {
                scores[i] += similarity;
            }
        }
    }
}

/// <summary>
/// The session-kNN term the ranking stage fuses with the model: <see cref="SessionNeighbours"/> over the fitted
/// sequences (numbered in their order, so a later one is more recent, as V-SKNN's sample takes them), with the
/// service's bounds and vote threshold; the user's own sequence is never a neighbour.
/// </summary>
public sealed class SessionKnnScorer : ISequenceScorer
{
    /// <summary>Users whose votes are kept between calls: fusion tuning scores the same users once per trial.</summary>
    public const int CachedUsers = 10_000;

    private readonly SessionNeighbours _neighbours = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (int HistoryLength, KeyValuePair<int, float>[] Votes)> _cache = new();

    public SessionKnnScorer(IReadOnlyList<int[]> sequences)
    {
        foreach (var sequence in sequences)
        {
            var session = _neighbours.Start();
            foreach (var item in sequence)
            {
                _neighbours.Add(session, item);
            }
        }
    }

    public string Name => "session-knn";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        // A user's history is fixed per phase, and each phase fits its own scorer: the length tells a stale entry.
        if (!_cache.TryGetValue(user, out var cached) || cached.HistoryLength != history.Length)
        {
            var votes = new Dictionary<int, float>();
            _neighbours.Score(history, votes, exclude: user);
            cached = (history.Length, [.. votes]);
            if (_cache.Count < CachedUsers)
            {
                _cache[user] = cached;
            }
        }

        foreach (var (item, value) in cached.Votes)
        {
            scores[item] += value;
        }
    }
}

/// <summary>
/// The co-occurrence signal the ranking stage fuses with the model: Σ over the last <c>lastItems</c> items of
/// log(1 + how often the candidate followed that item within <c>window</c> positions, each time weighted
/// 1/distance as the service's <see cref="InteractionStatistics"/> counts), nearer items weighing more. Logs keep one
/// very common pair from drowning the model's scores.
/// </summary>
public sealed class LogCooccurrenceScorer : ISequenceScorer
{
    private readonly SparseItemMatrix _counts;
    private readonly int _lastItems;

    public LogCooccurrenceScorer(IReadOnlyList<int[]> sequences, int items, int window = 3, int lastItems = 3)
    {
        _counts = SparseItemMatrix.Cooccurrence(sequences, items, window, symmetric: false, byDistance: true).Map((_, _, v) => MathF.Log(1 + v));
        _lastItems = lastItems;
    }

    public string Name => "log-cooccurrence";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        var n = Math.Min(_lastItems, history.Length);
        for (var p = 0; p < n; p++)
        {
            _counts.AddRow(history[^(p + 1)], 1f / (p + 1), scores);
        }
    }
}

/// <summary>
/// log(1 + interactions) of each item: the popularity term of the ranking stage's fusion. Offline, an item the split
/// does not call new counts at least one interaction: in leave-one-out over a fixed item set, an item with none in
/// the fitted sequences is one that occurs only as somebody's held-out target, and a term that could tell it apart
/// (a negative popularity weight would lift it) would hand the model the answer.
/// </summary>
public sealed class LogPopularityScorer(IReadOnlyList<int[]> sequences, int items, IReadOnlySet<int> newItems) : ISequenceScorer
{
    private readonly float[] _values = [.. PopularityScorer.Counts(sequences, items).Select((c, i) => newItems.Contains(i) ? 0f : MathF.Log(1 + Math.Max(1, c)))];

    public string Name => "log-popularity";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores) => _values.CopyTo(scores);
}

/// <summary>
/// 1 for the items the split says are new (not in the catalogue when the models were fitted), else 0: the ranker's
/// new-item term. Newness comes from the split, never from "nobody interacted with it": offline, an item without
/// fitted interactions is a held-out target, and lifting it would measure the protocol, not the model. (In the
/// service the term is keyed on zero interactions, and rightly: a catalogue item nobody has touched is new.)
/// </summary>
public sealed class NewItemScorer(IReadOnlySet<int> newItems, int items) : ISequenceScorer
{
    private readonly float[] _values = [.. Enumerable.Range(0, items).Select(i => newItems.Contains(i) ? 1f : 0f)];

    public string Name => "new-item";

    public void Score(int user, ReadOnlySpan<int> history, Span<float> scores) => _values.CopyTo(scores);
}
