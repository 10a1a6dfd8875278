namespace SessionRec.Models.Serving;

using System.Buffers;
using System.Numerics.Tensors;

/// <summary>
/// Approximate highest inner products by an inverted file. Rows are mapped to unit vectors with the transform of
/// <see cref="AnnIndex"/> ((v, √(M² − |v|²)) / M, M the longest row) and clustered by spherical k-means on a sample;
/// a query scores every centroid, then scores exactly the rows of the best lists, enough of them to read about
/// <see cref="ProbeRows"/> rows. Partitions do not care whether a query lies near the rows' manifold: on a trained
/// model's vectors, sessions found 0.973 of the exact top 100 at 1M rows (the proximity graph: 0.46), built in 13 s
/// (the graph: 4–12 minutes). Each list's vectors (as the index scores them) are kept as one block of int8 codes
/// (<see cref="ItemCodes"/>), so a search reads a few contiguous blocks at a quarter of the bytes, then scores exactly
/// only the rows whose bound reaches its top. Managed memory: the rows' codes (dim + 8 bytes a row), their row
/// numbers, and the centroids.
/// </summary>
public sealed class InvertedFileIndex : IApproximateIndex
{
    // 2: the probe follows the lists (format 1 files are read with the default probe).
    private const int Format = 2;

    private readonly int _dim;
    private readonly float[] _centroids;
    private readonly int[] _starts;
    private readonly int[] _rows;
    private readonly ItemCodes _codes;
    private readonly ItemVectorIndex _index;
    private int _probe;

    private InvertedFileIndex(int dim, float[] centroids, int[] starts, int[] rows, ItemVectorIndex index)
    {
        _dim = dim;
        _centroids = centroids;
        _starts = starts;
        _rows = rows;
        _index = index;
        Rows = rows.Length;
        _codes = new ItemCodes(dim, rows.Length);
        for (var at = 0; at < rows.Length; at++)
        {
            _codes.Set(at, index.ScoredVector(rows[at]), 1f);
        }

        var lists = starts.Length - 1;
        _probe = Math.Clamp((int)Math.Ceiling(ProbeRows(Rows) / Math.Max(1.0, (double)Rows / lists)), 1, lists);
    }

    public int Rows { get; }

    /// <summary>How many lists it has.</summary>
    public int Lists => _starts.Length - 1;

    /// <summary>How many lists a search reads.</summary>
    public int Probe => _probe;

    /// <summary>
    /// Checks the index against the exact scan (the queries of <see cref="ApproximateIndexCheck.MeasureRecall"/>, 40 of
    /// them, and <paramref name="sessions"/> when given) and, while either finds less than <paramref name="minRecall"/>,
    /// reads a quarter more lists, up to a quarter of them; returns the lower recall at the probe it keeps. Before the
    /// index serves (searches read the probe). Catalogues differ: on Beauty plus 988,000 synthetic items added through the API the default probe found 0.868, on the
    /// benchmark's own 1M synthetic items 0.977; Beauty plus 88,000 added, 0.927. Steps of a quarter, not doubling:
    /// each list read costs every request, so the probe stops near the least that passes.
    /// </summary>
    /// <param name="sessions">Queries that must pass as well (the tenant's own recent sessions); the lower recall counts.</param>
    public double Calibrate(ItemVectorIndex index, double minRecall, RecallSample? sessions = null)
    {
        var sample = RecallSample.Of(index, Rows, samples: 40);
        double Measure() => Math.Min(sample.Measure(Search), sessions?.Measure(Search) ?? 1);
        var recall = Measure();
        var most = Math.Max(_probe, Lists / 4);
        while (recall < minRecall && _probe < most)
        {
            _probe = Math.Min(most, Math.Max(_probe + 1, (int)Math.Ceiling(_probe * 1.25)));
            recall = Measure();
        }

        return recall;
    }

    /// <summary>
    /// Rows a search aims to score: 2% of the index, at least 8,000 (measured on Beauty's sessions: 0.973 recall@100
    /// at 1M rows scoring ~20,000, 0.988 at 100k scoring ~7,300).
    /// </summary>
    public static int ProbeRows(int rows) => Math.Max(8_000, rows / 50);

    /// <summary>The number of lists by default: about the square root of the rows.</summary>
    public static int DefaultLists(int rows) => Math.Clamp((int)Math.Round(Math.Sqrt(rows)), 16, 4_096);

    /// <summary>
    /// Indexes the first <paramref name="rows"/> rows of <paramref name="index"/> as they are scored, on the calling
    /// thread and at most <paramref name="parallelism"/> − 1 of the thread pool's (default: one per core; never
    /// unbounded, which takes every thread the pool adds while the build runs).
    /// </summary>
    public static InvertedFileIndex Build(ItemVectorIndex index, int rows, int? lists = null, int sample = 60_000, int iterations = 8, int seed = 3, int? parallelism = null)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism ?? Environment.ProcessorCount) };
        var count = lists ?? DefaultLists(rows);
        count = Math.Clamp(count, 1, Math.Max(1, rows));
        var dim = index.Dim + 1;
        var unit = Transform(index, rows);
        var random = new Random(seed);
        var sampled = Enumerable.Range(0, rows).OrderBy(_ => random.Next()).Take(Math.Min(sample, rows)).ToArray();
        var centroids = new float[count * dim];
        for (var c = 0; c < count; c++)
        {
            unit.AsSpan(sampled[c % sampled.Length] * dim, dim).CopyTo(centroids.AsSpan(c * dim, dim));
        }

        var assignment = new int[sampled.Length];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var current = centroids;
            Parallel.For(0, sampled.Length, parallel, i => assignment[i] = Nearest(current, count, dim, unit.AsSpan(sampled[i] * dim, dim)));
            var sums = new float[count * dim];
            var members = new int[count];
            for (var i = 0; i < sampled.Length; i++)
            {
                var sum = sums.AsSpan(assignment[i] * dim, dim);
                TensorPrimitives.Add(sum, unit.AsSpan(sampled[i] * dim, dim), sum);
                members[assignment[i]]++;
            }

            for (var c = 0; c < count; c++)
            {
                var centroid = sums.AsSpan(c * dim, dim);
                if (members[c] == 0)
                {
                    unit.AsSpan(sampled[random.Next(sampled.Length)] * dim, dim).CopyTo(centroid);
                }

                TensorPrimitives.Divide(centroid, Math.Max(TensorPrimitives.Norm(centroid), 1e-12f), centroid);
            }

            centroids = sums;
        }

        var owner = new int[rows];
        var final = centroids;
        Parallel.For(0, rows, parallel, row => owner[row] = Nearest(final, count, dim, unit.AsSpan(row * dim, dim)));
        var (starts, order) = Group(owner, count);
        return new InvertedFileIndex(index.Dim, centroids, starts, order, index);
    }

    /// <summary>The rows of (about) the <paramref name="count"/> highest inner products with <paramref name="query"/>, best first.</summary>
    public int[] Search(float[] query, int count) => Search(query, count, _probe, out _);

    /// <summary>As <see cref="Search(float[], int)"/>, reading the <paramref name="probe"/> best lists; <paramref name="scanned"/>: rows scored.</summary>
    public int[] Search(float[] query, int count, int probe, out int scanned)
    {
        var codes = _codes.Encode(query.AsSpan(0, _dim));
        using var probed = ProbeLists(query, probe, codes);
        scanned = probed.Count;

        // The probed rows from their int8 codes (a quarter of the bytes), then exactly only those that may reach the
        // top count: the same rows as scoring every probed row in floats, up to rounding.
        if (codes is null)
        {
            // A query of zeros or not a number: every probed row is scored exactly.
            Array.Fill(probed.Approx, 0f, 0, scanned);
            Array.Fill(probed.Bounds, float.PositiveInfinity, 0, scanned);
        }

        var best = BoundedTopK.Select(probed.Approx.AsSpan(0, scanned), probed.Bounds.AsSpan(0, scanned), count, new ProbedRows(_index, query, _dim, _rows, probed.Positions));
        var result = new int[best.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _rows[probed.Positions[best[i].Entry]];
        }

        return result;
    }

    /// <summary>
    /// The probed rows with the <paramref name="count"/> highest int8 scores, in no order: candidates the caller scores
    /// exactly anyway, so neither the exact pass nor the sort of <see cref="Search(float[], int)"/> is spent on them.
    /// </summary>
    public int[] Candidates(float[] query, int count)
    {
        var codes = _codes.Encode(query.AsSpan(0, _dim));
        if (codes is null || count <= 0)
        {
            return Search(query, count);
        }

        using var probed = ProbeLists(query, _probe, codes);
        var positions = BoundedTopK.HighestPositions(probed.Approx.AsSpan(0, probed.Count), count);
        var result = new int[positions.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _rows[probed.Positions[positions[i]]];
        }

        return result;
    }

    /// <summary>The rows of the <paramref name="probe"/> lists nearest <paramref name="query"/>, with their int8 scores and bounds when <paramref name="codes"/> is given.</summary>
    private ProbedLists ProbeLists(float[] query, int probe, ItemCodes.Query? codes)
    {
        var augmented = new float[_dim + 1];
        query.AsSpan(0, _dim).CopyTo(augmented);
        var lists = Lists;
        var centroidScores = ArrayPool<float>.Shared.Rent(lists);
        List<(int Item, double Score)> chosen;
        try
        {
            for (var c = 0; c < lists; c++)
            {
                centroidScores[c] = TensorPrimitives.Dot(_centroids.AsSpan(c * (_dim + 1), _dim + 1), augmented);
            }

            chosen = Baseline.TopK.Select(centroidScores.AsSpan(0, lists), Math.Clamp(probe, 1, lists));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(centroidScores);
        }

        var scanned = 0;
        foreach (var (list, _) in chosen)
        {
            scanned += _starts[list + 1] - _starts[list];
        }

        var probed = new ProbedLists(scanned);
        var n = 0;
        foreach (var (list, _) in chosen)
        {
            var (start, length) = (_starts[list], _starts[list + 1] - _starts[list]);
            if (codes is not null)
            {
                _codes.Score(codes, start, probed.Approx.AsSpan(n, length), probed.Bounds.AsSpan(n, length));
            }

            for (var at = start; at < start + length; at++)
            {
                probed.Positions[n++] = at;
            }
        }

        return probed;
    }

    /// <summary>Rented buffers of one search: each probed row's position in the lists, int8 score and bound.</summary>
    private readonly struct ProbedLists(int count) : IDisposable
    {
        public int Count { get; } = count;

        public float[] Approx { get; } = ArrayPool<float>.Shared.Rent(Math.Max(1, count));

        public float[] Bounds { get; } = ArrayPool<float>.Shared.Rent(Math.Max(1, count));

        public int[] Positions { get; } = ArrayPool<int>.Shared.Rent(Math.Max(1, count));

        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(Approx);
            ArrayPool<float>.Shared.Return(Bounds);
            ArrayPool<int>.Shared.Return(Positions);
        }
    }

    /// <summary>A probed row's exact score, from the index's vectors as they are now.</summary>
    private readonly struct ProbedRows(ItemVectorIndex index, float[] query, int dim, int[] rows, int[] positions) : BoundedTopK.IExactScores
    {
        public float Score(int entry) => index.ScoreRow(query.AsSpan(0, dim), rows[positions[entry]]);
    }

    /// <summary>Writes the centroids and the lists (not the vectors: <see cref="Load"/> reads them from the index again).</summary>
    public void Save(string path)
    {
        using var writer = new BinaryWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20));
        writer.Write(Format);
        writer.Write(_dim);
        writer.Write(Lists);
        writer.Write(Rows);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_centroids.AsSpan()));
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_starts.AsSpan()));
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_rows.AsSpan()));
        writer.Write(_probe);
    }

    /// <summary>Reads an index <see cref="Save"/> wrote, over the same rows of <paramref name="index"/> (as they were then).</summary>
    public static InvertedFileIndex Load(string path, ItemVectorIndex index)
    {
        using var reader = new BinaryReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20));
        var format = reader.ReadInt32();
        if (format is not (1 or Format))
        {
            throw new InvalidDataException("Unknown inverted-file format.");
        }

        var dim = reader.ReadInt32();
        var lists = reader.ReadInt32();
        var rows = reader.ReadInt32();
        if (dim != index.Dim || rows > index.Count || lists < 1)
        {
            throw new InvalidDataException("The inverted file does not describe these item vectors.");
        }

        var centroids = new float[lists * (dim + 1)];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(centroids.AsSpan()));
        var starts = new int[lists + 1];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(starts.AsSpan()));
        var order = new int[rows];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(order.AsSpan()));
        if (starts[0] != 0 || starts[^1] != rows || order.Any(r => r < 0 || r >= rows))
        {
            throw new InvalidDataException("The inverted file's lists are inconsistent.");
        }

        var loaded = new InvertedFileIndex(dim, centroids, starts, order, index);
        if (format >= 2)
        {
            loaded._probe = Math.Clamp(reader.ReadInt32(), 1, lists);
        }

        return loaded;
    }

    public void Dispose()
    {
    }

    private static (int[] Starts, int[] Order) Group(int[] owner, int lists)
    {
        var starts = new int[lists + 1];
        foreach (var list in owner)
        {
            starts[list + 1]++;
        }

        for (var c = 0; c < lists; c++)
        {
            starts[c + 1] += starts[c];
        }

        var next = starts[..^1].ToArray();
        var order = new int[owner.Length];
        for (var row = 0; row < owner.Length; row++)
        {
            order[next[owner[row]]++] = row;
        }

        return (starts, order);
    }

    private static int Nearest(float[] centroids, int lists, int dim, ReadOnlySpan<float> vector)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var c = 0; c < lists; c++)
        {
            var score = TensorPrimitives.Dot(centroids.AsSpan(c * dim, dim), vector);
            if (score > bestScore)
            {
                bestScore = score;
                best = c;
            }
        }

        return best;
    }

    // Each row as a unit vector of dim + 1 whose cosine with (q, 0) orders rows as q · v does (AnnIndex's form).
    private static float[] Transform(ItemVectorIndex index, int rows)
    {
        var dim = index.Dim + 1;
        var longest = 1e-12f;
        for (var row = 0; row < rows; row++)
        {
            longest = Math.Max(longest, AnnIndex.SquaredLength(index.ScoredVector(row)));
        }

        var unit = new float[rows * dim];
        for (var row = 0; row < rows; row++)
        {
            AnnIndex.Augmented(index.ScoredVector(row), longest).CopyTo(unit.AsSpan(row * dim, dim));
        }

        return unit;
    }
}
