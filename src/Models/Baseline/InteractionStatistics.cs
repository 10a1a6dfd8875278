namespace SessionRec.Models.Baseline;

using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>
/// What the baseline recommender learns from interactions: directed item-to-item co-occurrence within a
/// session (item j after item i, weighted by the distance between them) and a time-decayed popularity.
/// Not thread-safe for writes: the owner (the tenant's statistics builder) serialises them. A replica's copy read
/// back from a snapshot (<see cref="ReadFrom"/>) is never written, so any number of requests may read it at once; it
/// holds its rows packed, 8 B an entry (a builder that resumes from a snapshot unpacks them at its first write).
/// Memory is bounded per item: each of its two neighbour rows (items after it, items with it) keeps its
/// <see cref="MaxNeighbours"/> strongest entries, pruned back to them whenever a row doubles past the bound — at most
/// 2 × 2 × <see cref="MaxNeighbours"/> entries (~20 B each in a builder's rows) per item, 8 KB at the default 100; a row takes that room
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

    // The rows as a snapshot was read (format 3): each row a slice of two shared arrays, read in a few bulk copies
    // instead of a dictionary per row — on Beauty with a 2M-record log ~24,000 dictionaries and millions of entries,
    // the largest part of a replica's load at start. Null in a builder's instance: its first write unpacks them
    // into growing rows (_after, _together), which stay empty while this is set.
    private (PackedRows After, PackedRows Together)? _packed;

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

    /// <summary>The item ids of up to <paramref name="count"/> of the most recent sessions with at least <paramref name="minLength"/> items (see <see cref="SessionNeighbours.Recent"/>).</summary>
    public List<string[]> RecentSessions(int count, int minLength) =>
        [.. Neighbours.Recent(count, minLength).Select(items => items.Select(IdOf).ToArray())];

    /// <summary>
    /// Records that <paramref name="itemId"/> was interacted with at <paramref name="at"/>, after
    /// <paramref name="preceding"/> (oldest first) in the same session, the <see cref="Neighbours"/> session
    /// <paramref name="session"/> (from <see cref="SessionNeighbours.Start"/>; -1: none).
    /// </summary>
    public void Observe(string itemId, double weight, DateTimeOffset at, IReadOnlyList<string> preceding, long session = -1)
    {
        Unpack();
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
    public NeighbourRow After(int index) => _packed is { } packed ? packed.After.Row(index) : new NeighbourRow(_after[index]);

    /// <summary>Items seen in the same sessions as <paramref name="index"/> (either order), with counts.</summary>
    public NeighbourRow Together(int index) => _packed is { } packed ? packed.Together.Row(index) : new NeighbourRow(_together[index]);

    /// <summary>How many interactions the item has had (not decayed).</summary>
    public float Count(int index) => _counts[index];

    /// <summary>Writes everything, for <see cref="ReadFrom"/>: a snapshot that replicas load instead of replaying the log.</summary>
    /// <remarks>
    /// Format 3 is columnar — the ids, then popularity, counts and each kind of row as whole arrays (a row's
    /// entries in the order they were recorded) — so that a reader copies arrays instead of building a dictionary per
    /// row. Formats 1 and 2 (a record per item) are still read.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see WriteRows
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(SnapshotFormat);
        writer.Write(_halfLifeTicks);
        writer.Write(Window);
        writer.Write(_epochTicks);
        writer.Write(Observations);
        writer.Write(_ids.Count);
        foreach (var id in _ids)
        {
            writer.Write(id);
        }

        writer.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_popularity)));
        writer.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_counts)));
        WriteRows(writer, after: true);
        WriteRows(writer, after: false);
        Neighbours.WriteTo(writer);
    }

    public static InteractionStatistics ReadFrom(BinaryReader reader)
    {
        var format = reader.ReadInt32();
        if (format is not (SnapshotFormat or 2 or 1))
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
        if (format == SnapshotFormat)
        {
            statistics.ReadColumns(reader, count);
        }
        else
        {
            statistics.ReadRecords(reader, count);
        }

        // Format 1 (before the session-kNN term) has no sessions: the pool fills from the log from here on.
        if (format != 1)
        {
            statistics.Neighbours = SessionNeighbours.ReadFrom(reader);
        }

        return statistics;
    }

    private const int SnapshotFormat = 3;

    private void ReadColumns(BinaryReader reader, int count)
    {
        _ids.Capacity = count;
        _index.EnsureCapacity(count);
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadString();
            _index.Add(id, i);
            _ids.Add(id);
        }

        CollectionsMarshal.SetCount(_popularity, count);
        ReadExactly(reader, CollectionsMarshal.AsSpan(_popularity));
        CollectionsMarshal.SetCount(_counts, count);
        ReadExactly(reader, CollectionsMarshal.AsSpan(_counts));
        _packed = (PackedRows.ReadFrom(reader, count), PackedRows.ReadFrom(reader, count));
    }

    private void ReadRecords(BinaryReader reader, int count)
    {
        _ids.Capacity = count;
        for (var i = 0; i < count; i++)
        {
            var id = reader.ReadString();
            _index.Add(id, i);
            _ids.Add(id);
            _popularity.Add(reader.ReadDouble());
            _counts.Add(reader.ReadSingle());
            _after.Add(ReadRow(reader));
            _together.Add(ReadRow(reader));
        }
    }

    /// <summary>Before the first write, packed rows become growing ones (the same entries in the same order).</summary>
    private void Unpack()
    {
        if (_packed is not { } packed)
        {
            return;
        }

        for (var i = 0; i < _ids.Count; i++)
        {
            _after.Add(Grown(packed.After.Row(i)));
            _together.Add(Grown(packed.Together.Row(i)));
        }

        _packed = null;

        static Dictionary<int, float> Grown(NeighbourRow row)
        {
            var grown = new Dictionary<int, float>(row.Count);
            foreach (var (item, weight) in row)
            {
                grown.Add(item, weight);
            }

            return grown;
        }
    }

    // Runs every few seconds while events arrive, over every row of the tenant (millions of entries): written a
    // block of numbers at a time, and optimized from its first call — it is called too rarely for tiered
    // compilation to promote it, and its unoptimized loops were ~4% of the service's CPU during ingestion at 100k items.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteRows(BinaryWriter writer, bool after)
    {
        var count = _ids.Count;
        var block = ArrayPool<int>.Shared.Rent(Math.Max(count, WriteBlock));
        try
        {
            for (var i = 0; i < count; i++)
            {
                block[i] = RowOf(after, i).Count;
            }

            writer.Write(MemoryMarshal.AsBytes(block.AsSpan(0, count)));

            // The rows' items, then their weights (as their bits: the same little-endian bytes as a float's).
            for (var column = 0; column < 2; column++)
            {
                var filled = 0;
                for (var i = 0; i < count; i++)
                {
                    foreach (var (item, weight) in RowOf(after, i))
                    {
                        if (filled == WriteBlock)
                        {
                            writer.Write(MemoryMarshal.AsBytes(block.AsSpan(0, filled)));
                            filled = 0;
                        }

                        block[filled++] = column == 0 ? item : BitConverter.SingleToInt32Bits(weight);
                    }
                }

                writer.Write(MemoryMarshal.AsBytes(block.AsSpan(0, filled)));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(block);
        }
    }

    private const int WriteBlock = 4096;

    private NeighbourRow RowOf(bool after, int index) => after ? After(index) : Together(index);

    // The snapshot's numbers are little-endian (BinaryWriter's order, and every platform .NET runs this service on),
    // so whole arrays are copied as they are.
    private static void ReadExactly<T>(BinaryReader reader, Span<T> into)
        where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Statistics snapshots are read on little-endian machines only.");
        }

        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(into));
    }

    /// <summary>One kind of row for every item, packed: item i's entries are [Starts[i], Starts[i + 1]) of the arrays.</summary>
    private sealed class PackedRows(int[] starts, int[] items, float[] weights)
    {
        public NeighbourRow Row(int index) => new(items, weights, starts[index], starts[index + 1] - starts[index]);

        public static PackedRows ReadFrom(BinaryReader reader, int count)
        {
            var starts = new int[count + 1];
            ReadExactly(reader, starts.AsSpan(1));
            for (var i = 1; i <= count; i++)
            {
                var length = starts[i];
                if (length < 0)
                {
                    throw new InvalidDataException($"Statistics snapshot: a row of {length} entries.");
                }

                starts[i] = checked(starts[i - 1] + length);
            }

            var items = new int[starts[count]];
            var weights = new float[starts[count]];
            ReadExactly(reader, items.AsSpan());
            ReadExactly(reader, weights.AsSpan());
            if (items.AsSpan().IndexOfAnyExceptInRange(0, count - 1) >= 0)
            {
                throw new InvalidDataException("Statistics snapshot: a row names an item it does not hold.");
            }

            return new PackedRows(starts, items, weights);
        }
    }

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
