namespace SessionRec.Models.Baseline;

/// <summary>
/// What the baseline recommender learns from interactions: directed item-to-item co-occurrence within a
/// session (item j after item i, weighted by the distance between them) and a time-decayed popularity.
/// Not thread-safe: the owner (one grain activation per tenant) serialises writes.
/// </summary>
public sealed class InteractionStatistics
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _ids = [];
    private readonly List<Dictionary<int, float>> _after = [];
    private readonly List<double> _popularity = [];
    private readonly List<Dictionary<int, float>> _together = [];
    private readonly List<float> _counts = [];
    private readonly double _halfLifeTicks;
    private long _epochTicks = long.MinValue;

    public InteractionStatistics(TimeSpan popularityHalfLife, int window = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(popularityHalfLife, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _halfLifeTicks = popularityHalfLife.Ticks;
        Window = window;
    }

    /// <summary>How many preceding session items each interaction links to.</summary>
    public int Window { get; }

    public int ItemCount => _ids.Count;

    public long Observations { get; private set; }

    public bool TryGetIndex(string itemId, out int index) => _index.TryGetValue(itemId, out index);

    public string IdOf(int index) => _ids[index];

    /// <summary>
    /// Records that <paramref name="itemId"/> was interacted with at <paramref name="at"/>, after
    /// <paramref name="preceding"/> (oldest first) in the same session.
    /// </summary>
    public void Observe(string itemId, double weight, DateTimeOffset at, IReadOnlyList<string> preceding)
    {
        var target = IndexOf(itemId);
        _popularity[target] += weight * DecayFactor(at);
        _counts[target]++;

        // Link the target to the last `Window` distinct preceding items; nearer items count more (1, 1/2, 1/3, ...).
        var linked = 0;
        for (var i = preceding.Count - 1; i >= 0 && linked < Window; i--)
        {
            var source = preceding[i];
            if (string.Equals(source, itemId, StringComparison.Ordinal))
            {
                continue;
            }

            linked++;
            var from = IndexOf(source);
            var row = _after[from];
            row.TryGetValue(target, out var current);
            row[target] = current + (float)(weight / linked);
        }

        // Symmetric, unweighted co-occurrence with every remembered session item: the item-kNN similarity.
        foreach (var source in preceding)
        {
            if (string.Equals(source, itemId, StringComparison.Ordinal))
            {
                continue;
            }

            var other = IndexOf(source);
            _together[other][target] = _together[other].GetValueOrDefault(target) + 1;
            _together[target][other] = _together[target].GetValueOrDefault(other) + 1;
        }

        Observations++;
    }

    /// <summary>Decayed popularity, relative to the other items (only ratios between items are meaningful).</summary>
    public double Popularity(int index) => _popularity[index];

    /// <summary>Items seen after <paramref name="index"/> in sessions, with their co-occurrence weight.</summary>
    public IReadOnlyDictionary<int, float> After(int index) => _after[index];

    /// <summary>Items seen in the same sessions as <paramref name="index"/> (either order), with counts.</summary>
    public IReadOnlyDictionary<int, float> Together(int index) => _together[index];

    /// <summary>How many interactions the item has had (not decayed).</summary>
    public float Count(int index) => _counts[index];

    private int IndexOf(string itemId)
    {
        if (_index.TryGetValue(itemId, out var index))
        {
            return index;
        }

        index = _ids.Count;
        _index.Add(itemId, index);
        _ids.Add(itemId);
        _after.Add([]);
        _together.Add([]);
        _counts.Add(0);
        _popularity.Add(0);
        return index;
    }

    // Popularity decays with a half-life. Rather than touching every item as time passes, newer events get
    // exponentially larger weights relative to an epoch; when those weights grow large, everything is rescaled.
    private double DecayFactor(DateTimeOffset at)
    {
        if (_epochTicks == long.MinValue)
        {
            _epochTicks = at.UtcTicks;
        }

        var exponent = (at.UtcTicks - _epochTicks) / _halfLifeTicks;
        if (exponent > 256)
        {
            var shift = Math.Pow(2, -exponent);
            for (var i = 0; i < _popularity.Count; i++)
            {
                _popularity[i] *= shift;
            }

            _epochTicks = at.UtcTicks;
            exponent = 0;
        }

        return Math.Pow(2, exponent);
    }
}
