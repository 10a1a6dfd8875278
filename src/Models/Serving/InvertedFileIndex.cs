namespace SessionRec.Models.Serving;

using System.Buffers;
using System.Numerics.Tensors;

/// <summary>
/// Approximate highest inner products by an inverted file. Rows are mapped to unit vectors with the transform of
/// <see cref="AnnIndex"/> ((v, √(M² − |v|²)) / M, M the longest row) and clustered by spherical k-means on a sample;
/// a query chooses <see cref="Probe"/> lists (<see cref="ChooseLists"/>: most by what their best row may score, the
/// rest by their centroids), then scores exactly their rows. Partitions do not care whether a query lies near the
/// rows' manifold: on a trained model's vectors, sessions found 0.98 of the exact top 100 at 1M rows reading ~24,000
/// (the proximity graph: 0.46), built in 13 s (the graph: 4–12 minutes). Each list's vectors (as the index scores them) are kept as one block of int8 codes
/// (<see cref="ItemCodes"/>), so a search reads a few contiguous blocks at a quarter of the bytes, then scores exactly
/// only the rows whose bound reaches its top. Managed memory: the rows' codes (dim + 8 bytes a row), their row
/// numbers, and the centroids.
/// </summary>
public sealed class InvertedFileIndex : IApproximateIndex
{
    // 2: the probe follows the lists (format 1 files are read with the default probe). 3: the same, its probe calibrated
    // for lists chosen by best row (format 2's was for lists ranked by centroids: read with the default probe too).
    private const int Format = 3;

    private readonly int _dim;
    private readonly float[] _centroids;
    private readonly int[] _starts;
    private readonly int[] _rows;
    private readonly ItemCodes _codes;
    private readonly ItemVectorIndex _index;

    // Per list: its centroid's direction in the rows' space (dim) and that part's length (a query's centroid score is
    // their product with the direction's), its longest row, and the share of its widest angle that a row is assumed
    // to lean towards the query (see BestRowEstimates).
    private readonly float[] _directions;
    private readonly float[] _centroidLengths;
    private readonly float[] _longest;
    private readonly float[] _cosReach;
    private readonly float[] _sinReach;
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
        var lists = starts.Length - 1;
        _directions = new float[lists * dim];
        _centroidLengths = new float[lists];
        _longest = new float[lists];
        var cosines = new float[lists];
        Array.Fill(cosines, 1f);
        for (var list = 0; list < lists; list++)
        {
            // The centroid's first dim components are its direction in the rows' space (the last is the transform's).
            var direction = _directions.AsSpan(list * dim, dim);
            centroids.AsSpan(list * (dim + 1), dim).CopyTo(direction);
            var length = TensorPrimitives.Norm(direction);
            if (length > 0 && float.IsFinite(length))
            {
                TensorPrimitives.Divide(direction, length, direction);
                _centroidLengths[list] = length;
            }

            for (var at = starts[list]; at < starts[list + 1]; at++)
            {
                var vector = index.ScoredVector(rows[at]);
                _codes.Set(at, vector, 1f);
                var norm = TensorPrimitives.Norm(vector);
                if (norm > 0 && float.IsFinite(norm))
                {
                    _longest[list] = MathF.Max(_longest[list], norm);
                    cosines[list] = MathF.Min(cosines[list], TensorPrimitives.Dot(vector, direction) / norm);
                }
                else if (!float.IsFinite(norm))
                {
                    // A row that is not a number: its list ranks first for every query its centroid faces.
                    _longest[list] = float.PositiveInfinity;
                }
            }
        }

        TensorPrimitives.Max(cosines, -1f, cosines);
        TensorPrimitives.Min(cosines, 1f, cosines);
        var reach = new float[lists];
        TensorPrimitives.Acos(cosines, reach);
        TensorPrimitives.Multiply(reach, ReachShare, reach);
        _cosReach = new float[lists];
        _sinReach = new float[lists];
        TensorPrimitives.Cos(reach, _cosReach);
        TensorPrimitives.Sin(reach, _sinReach);
        _probe = DefaultProbe(lists);
    }

    /// <summary>
    /// The share of a list's widest angle (its centroid to its farthest row) that a row is assumed to lean towards the
    /// query. 1 would bound every row's score, but ranks the loosest lists first; 0 ranks by the centroid's direction
    /// alone and misses long rows at a list's edge. 0.3 measured best on Beauty's sessions over three catalogues
    /// (12k, 100k, 1M rows; 0.2–0.4 within 0.01).
    /// </summary>
    private const float ReachShare = 0.3f;

    /// <summary>
    /// The share of the probe chosen by best-row estimate; the rest goes to the best centroids not chosen yet. Each
    /// ranking alone fails some queries: by centroids, sessions whose top is a few long rows among short ones (0.917
    /// at 40 of 1,000 lists); by best row, item vectors and means of a few rows, whose top is many rows of one list
    /// (0.81 at 40 on the other 1M catalogue). Measured on both catalogues, 0.7 passed sessions and those at 40 lists.
    /// </summary>
    private const double ByBestRowShare = 0.7;

    public int Rows { get; }

    /// <summary>How many lists it has.</summary>
    public int Lists => _starts.Length - 1;

    /// <summary>How many lists a search reads.</summary>
    public int Probe => _probe;

    /// <summary>
    /// Checks the index against the exact scan (the queries of <see cref="ApproximateIndexCheck.MeasureRecall"/>, 40 of
    /// them, and <paramref name="sessions"/> when given) and, while either finds less than <paramref name="minRecall"/>,
    /// reads a quarter more lists, up to a quarter of them; returns the lower recall at the probe it keeps. Before the
    /// index serves (searches read the probe). Catalogues differ (with lists ranked by centroids alone, on Beauty plus 988,000 synthetic items added through the API the default probe found 0.868, on the
    /// benchmark's own 1M synthetic items 0.977; Beauty plus 88,000 added, 0.927). Steps of a quarter, not doubling:
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
    /// Lists a search reads before calibration: 40, whatever the size (√rows lists): a session's exact top 100 lies in
    /// 12–17 lists at 12k, 100k and 1M rows, and the lists chosen find it within ~40 (Beauty's sessions at 40: 0.980
    /// and 0.991 over two 1M catalogues, 0.989 at 100k; at 32, 0.969 on one of them).
    /// </summary>
    public static int DefaultProbe(int lists) => Math.Clamp(40, 1, Math.Max(1, lists));

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

        using var probed = ProbeLists(query, _probe, codes, bounds: false);
        var positions = BoundedTopK.HighestPositions(probed.Approx.AsSpan(0, probed.Count), count);
        var result = new int[positions.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _rows[probed.Positions[positions[i]]];
        }

        return result;
    }

    /// <summary>
    /// The rows of the <paramref name="probe"/> lists chosen for <paramref name="query"/>, with their int8 scores when
    /// <paramref name="codes"/> is given, and their bounds unless <paramref name="bounds"/> is false.
    /// </summary>
    private ProbedLists ProbeLists(float[] query, int probe, ItemCodes.Query? codes, bool bounds = true)
    {
        var chosen = ChooseLists(query.AsSpan(0, _dim), Math.Clamp(probe, 1, Lists));
        var scanned = 0;
        foreach (var list in chosen)
        {
            scanned += _starts[list + 1] - _starts[list];
        }

        var probed = new ProbedLists(scanned);
        var n = 0;
        foreach (var list in chosen)
        {
            var (start, length) = (_starts[list], _starts[list + 1] - _starts[list]);
            if (codes is not null && bounds)
            {
                _codes.Score(codes, start, probed.Approx.AsSpan(n, length), probed.Bounds.AsSpan(n, length));
            }
            else if (codes is not null)
            {
                _codes.Approximate(codes, start, probed.Approx.AsSpan(n, length));
            }

            for (var at = start; at < start + length; at++)
            {
                probed.Positions[n++] = at;
            }
        }

        return probed;
    }

    /// <summary>
    /// The <paramref name="probe"/> lists a search reads: the best <see cref="ByBestRowShare"/> of them by
    /// <see cref="BestRowEstimates"/>, then the best by centroid score among the others.
    /// </summary>
    private List<int> ChooseLists(ReadOnlySpan<float> query, int probe)
    {
        var lists = Lists;
        var dots = ArrayPool<float>.Shared.Rent(lists);
        var scores = ArrayPool<float>.Shared.Rent(lists);
        try
        {
            Ranking.VectorMath.DotRows(query, _directions, dots.AsSpan(0, lists));

            BestRowEstimates(query, dots.AsSpan(0, lists), scores.AsSpan(0, lists));
            var chosen = Baseline.TopK.Select(scores.AsSpan(0, lists), (int)Math.Ceiling(probe * ByBestRowShare)).Select(e => e.Item).ToList();
            if (chosen.Count < probe)
            {
                // The centroids' own scores (the transform's: cosines with (q, 0)); probe of them hold enough not chosen.
                TensorPrimitives.Multiply(dots.AsSpan(0, lists), _centroidLengths, scores.AsSpan(0, lists));
                var taken = chosen.ToHashSet();
                foreach (var (list, _) in Baseline.TopK.Select(scores.AsSpan(0, lists), probe))
                {
                    if (chosen.Count < probe && taken.Add(list))
                    {
                        chosen.Add(list);
                    }
                }
            }

            return chosen;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dots);
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    /// <summary>
    /// Each list's estimate of its best row's score: its longest row's length × the cosine of the query's angle to
    /// its centroid, narrowed by <see cref="ReachShare"/> of the list's widest angle. The centroid's score ranks a
    /// list by its average row, and long rows scattered among short ones (a trained catalogue among items known only
    /// by metadata) are the top of a session while their lists' centroids are not.
    /// </summary>
    /// <param name="dots">Each list's direction · <paramref name="query"/>.</param>
    private void BestRowEstimates(ReadOnlySpan<float> query, ReadOnlySpan<float> dots, Span<float> scores)
    {
        var length = TensorPrimitives.Norm(query);
        if (!(length > 0) || !float.IsFinite(length))
        {
            // A query of zeros or not a number has no direction: any lists (its rows are scored exactly).
            scores.Clear();
            return;
        }

        TensorPrimitives.Divide(dots, length, scores);
        for (var list = 0; list < scores.Length; list++)
        {
            scores[list] = LeaningCosine(scores[list], _cosReach[list], _sinReach[list]) * _longest[list];
        }
    }

    /// <summary>
    /// cos(max(0, acos(x) − reach)) for x clamped to [−1, 1], given cos and sin of reach (in [0, π]): the cosine of
    /// the query's angle to a list's centroid less the list's reach. Without an inverse cosine and a cosine per list
    /// per query (a tenth of a search at 1,000 lists): 1 while the angle is within reach (x ≥ cos reach, as acos falls),
    /// else the angle difference identity with sin(acos x) = √(1 − x²).
    /// </summary>
    internal static float LeaningCosine(float x, float cosReach, float sinReach)
    {
        x = Math.Clamp(x, -1f, 1f);
        return x >= cosReach ? 1f : (x * cosReach) + (MathF.Sqrt(1 - (x * x)) * sinReach);
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
        if (format is not (1 or 2 or Format))
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
        if (format >= 3)
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
