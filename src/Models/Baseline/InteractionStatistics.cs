namespace SessionRec.Models.Baseline;

using System.Buffers;
using System.Runtime.InteropServices;

/// <summary>
/// What the baseline recommender learns from interactions: directed item-to-item co-occurrence within a
/// session (item j after item i, weighted by the distance between them) and a time-decayed popularity.
/// Not thread-safe for writes: the owner (the tenant's statistics builder) serialises them. A copy read back from
/// a snapshot (<see cref="ReadFrom"/>) is never written, so any number of requests may read it at once.
/// Memory is bounded per item: each of its two neighbour rows (items after it, items with it) keeps its
/// <see cref="MaxNeighbours"/> strongest entries, pruned back to them whenever a row doubles past the bound — at most
/// 2 × 2 × <see cref="MaxNeighbours"/> entries (~20 B each) per item, 8 KB at the default 100; a row takes that room
/// once it holds <see cref="GrowToBoundAt"/> entries, and rows of most items stay below that. Only the strongest
/// neighbours of the session's last items reach a list, so pruning the long tail changes what is recommended only
/// where a weak pair would have ranked.
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

    public const int DefaultMaxNeighbours = 100;

    public InteractionStatistics(TimeSpan popularityHalfLife, int window = 3, int maxNeighbours = DefaultMaxNeighbours, int neighbourSessions = SessionNeighbours.DefaultMaxSessions, int neighbourMinVotes = SessionNeighbours.DefaultMinVotes)
    {
        Neighbours = new SessionNeighbours(neighbourSessions, minVotes: neighbourMinVotes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(popularityHalfLife, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNeighbours, 1);
        _halfLifeTicks = popularityHalfLife.Ticks;
        Window = window;
        MaxNeighbours = maxNeighbours;
    }

    /// <summary>Recent sessions by their items (indexes of this instance): the session-kNN term's neighbour pool.</summary>
    public SessionNeighbours Neighbours { get; private set; }

    /// <summary>The neighbours each row keeps when it is pruned (see the class remarks).</summary>
    public int MaxNeighbours { get; }

    /// <summary>How many preceding session items each interaction links to.</summary>
    public int Window { get; }

    public int ItemCount => _ids.Count;

    public long Observations { get; private set; }

    public bool TryGetIndex(string itemId, out int index) => _index.TryGetValue(itemId, out index);

    public string IdOf(int index) => _ids[index];

    /// <summary>
    /// Records that <paramref name="itemId"/> was interacted with at <paramref name="at"/>, after
    /// <paramref name="preceding"/> (oldest first) in the same session, the <see cref="Neighbours"/> session
    /// <paramref name="session"/> (from <see cref="SessionNeighbours.Start"/>; -1: none).
    /// </summary>
    public void Observe(string itemId, double weight, DateTimeOffset at, IReadOnlyList<string> preceding, long session = -1)
    {
        var target = IndexOf(itemId);
        Neighbours.Add(session, target);
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
            var row = _after[IndexOf(source)];
            CollectionsMarshal.GetValueRefOrAddDefault(row, target, out _) += (float)(weight / linked);
            PruneIfFull(row);
        }

        // Symmetric, unweighted co-occurrence with every remembered session item: the item-kNN similarity.
        foreach (var source in preceding)
        {
            if (string.Equals(source, itemId, StringComparison.Ordinal))
            {
                continue;
            }

            var other = IndexOf(source);
            var otherRow = _together[other];
            var targetRow = _together[target];
            CollectionsMarshal.GetValueRefOrAddDefault(otherRow, target, out _)++;
            CollectionsMarshal.GetValueRefOrAddDefault(targetRow, other, out _)++;
            PruneIfFull(otherRow);
            PruneIfFull(targetRow);
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

    /// <summary>Writes everything, for <see cref="ReadFrom"/>: a snapshot that replicas load instead of replaying the log.</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(SnapshotFormat);
        writer.Write(_halfLifeTicks);
        writer.Write(Window);
        writer.Write(_epochTicks);
        writer.Write(Observations);
        writer.Write(_ids.Count);
        for (var i = 0; i < _ids.Count; i++)
        {
            writer.Write(_ids[i]);
            writer.Write(_popularity[i]);
            writer.Write(_counts[i]);
            WriteRow(writer, _after[i]);
            WriteRow(writer, _together[i]);
        }

        Neighbours.WriteTo(writer);
    }

    public static InteractionStatistics ReadFrom(BinaryReader reader)
    {
        var format = reader.ReadInt32();
        if (format is not (SnapshotFormat or 1))
        {
            throw new InvalidDataException($"Statistics snapshot format {format}; this build reads {SnapshotFormat}.");
        }

        var halfLife = reader.ReadDouble();
        var statistics = new InteractionStatistics(TimeSpan.FromTicks((long)halfLife), reader.ReadInt32())
        {
            _epochTicks = reader.ReadInt64(),
            Observations = reader.ReadInt64(),
        };
        var count = reader.ReadInt32();
        statistics._ids.Capacity = count;
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadString();
            statistics._index.Add(id, i);
            statistics._ids.Add(id);
            statistics._popularity.Add(reader.ReadDouble());
            statistics._counts.Add(reader.ReadSingle());
            statistics._after.Add(ReadRow(reader));
            statistics._together.Add(ReadRow(reader));
        }

        // Format 1 (before the session-kNN term) has no sessions: the pool fills from the log from here on.
        if (format == SnapshotFormat)
        {
            statistics.Neighbours = SessionNeighbours.ReadFrom(reader);
        }

        return statistics;
    }

    private const int SnapshotFormat = 2;

    /// <summary>
    /// A row that has grown to <see cref="GrowToBoundAt"/> entries makes room for the whole bound at once; a row past
    /// twice the bound keeps its <see cref="MaxNeighbours"/> strongest entries (ties: the lower item).
    /// </summary>
    private void PruneIfFull(Dictionary<int, float> row)
    {
        if (row.Count <= 2 * MaxNeighbours)
        {
            // Rows live as long as the tenant, so each array a growing row doubles into outlives the young
            // generation: on the ladder to the bound (37, 79, 163, 331, then trimmed back) they were the largest
            // part of what survived young collections during ingestion. One step to the bound instead; the bound is
            // unchanged, and entries keep their order, so rows and snapshots are the same.
            if (row.Count == GrowToBoundAt)
            {
                row.EnsureCapacity((2 * MaxNeighbours) + 1);
            }

            return;
        }

        // The strongest first, ties by item (a total order: the same rows as before on every run), sorted in a
        // pooled buffer rather than by LINQ (which allocated the row three times over on every prune).
        var count = row.Count;
        var entries = ArrayPool<KeyValuePair<int, float>>.Shared.Rent(count);
        try
        {
            ((ICollection<KeyValuePair<int, float>>)row).CopyTo(entries, 0);
            var span = entries.AsSpan(0, count);
            span.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : a.Key.CompareTo(b.Key));
            row.Clear();
            foreach (var (item, weight) in span[..MaxNeighbours])
            {
                row.Add(item, weight);
            }
        }
        finally
        {
            ArrayPool<KeyValuePair<int, float>>.Shared.Return(entries);
        }

        row.TrimExcess(2 * MaxNeighbours);
    }

    /// <summary>The size at which a row grows to its bound in one step (rows of most items stay below it).</summary>
    private const int GrowToBoundAt = 24;

    private static void WriteRow(BinaryWriter writer, Dictionary<int, float> row)
    {
        writer.Write(row.Count);
        foreach (var (item, weight) in row)
        {
            writer.Write(item);
            writer.Write(weight);
        }
    }

    private static Dictionary<int, float> ReadRow(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        var row = new Dictionary<int, float>(count);
        for (var i = 0; i < count; i++)
        {
            row.Add(reader.ReadInt32(), reader.ReadSingle());
        }

        return row;
    }

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
