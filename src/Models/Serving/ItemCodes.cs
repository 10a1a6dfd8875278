namespace SessionRec.Models.Serving;

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

/// <summary>
/// An int8 copy of an <see cref="ItemVectorIndex"/>'s rows, for a first pass over the whole catalogue that reads a
/// quarter of the bytes: each row as 127-step codes of its largest component, with what bounds the error of a dot
/// product computed from them. <see cref="Score"/> gives every row an approximate score and a bound that the exact
/// score (the float scan's, bit for bit) lies within; the ranking stage rescores exactly only the rows whose bound
/// reaches its top k, so its list equals the float scan's.
/// <para>
/// Memory: Dim + 8 bytes per row beside the float matrix's 4 × Dim (at Dim 64: 72 B a row, 72 MB at 1M rows).
/// Written by the index's one writer, read without a lock, grown as new arrays (as the matrix is).
/// </para>
/// </summary>
internal sealed class ItemCodes(int dim, int capacity = 1024)
{
    // The query's codes are 16-bit; a row's dot product of codes must stay inside an int (127 × QueryMax × dim).
    private readonly int _queryMax = Math.Max(1, Math.Min(short.MaxValue, int.MaxValue / (127 * Math.Max(1, dim))));

    private sbyte[] _codes = new sbyte[Math.Max(1, capacity) * dim];

    // Per row, with the index's row scale s folded in (a = largest |component| / 127, L1 = Σ|component|):
    // _step = s × a (one code's worth of score), _magnitude = s × L1 (Σ|v·q| ≤ _magnitude × |q|max).
    private float[] _step = new float[Math.Max(1, capacity)];
    private float[] _magnitude = new float[Math.Max(1, capacity)];

    /// <summary>Writes row <paramref name="row"/>'s codes (a new row must be the next one); <paramref name="scale"/> is the index's row scale.</summary>
    public void Set(int row, ReadOnlySpan<float> vector, float scale)
    {
        if ((row + 1) * dim > _codes.Length)
        {
            _codes = Grown(_codes, Math.Max(_codes.Length * 2, (row + 1) * dim));
        }

        if (row >= _step.Length)
        {
            var length = Math.Max(_step.Length * 2, row + 1);
            _step = Grown(_step, length);
            _magnitude = Grown(_magnitude, length);
        }

        float largest = 0, l1 = 0;
        foreach (var x in vector)
        {
            largest = MathF.Max(largest, MathF.Abs(x));
            l1 += MathF.Abs(x);
        }

        var a = largest / 127f;
        var codes = _codes.AsSpan(row * dim, dim);
        for (var i = 0; i < dim; i++)
        {
            codes[i] = a == 0 || !float.IsFinite(a) ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(vector[i] / a), -127, 127);
        }

        if (!float.IsFinite(l1) || !float.IsFinite(scale))
        {
            // A row that is not a number is never skipped: an infinite bound keeps it among the rows rescored.
            (_step[row], _magnitude[row]) = (0, float.PositiveInfinity);
            return;
        }

        _step[row] = scale * a;
        _magnitude[row] = scale * l1;
    }

    /// <summary>A query as 16-bit codes of one step, with what each row's bound takes from it.</summary>
    public sealed record Query(short[] Codes, float Step, float PerMagnitude, float PerStep);

    /// <summary>The query's codes; null for a query that is not finite or is all zeros (the caller scores exactly).</summary>
    public Query? Encode(ReadOnlySpan<float> query)
    {
        float largest = 0;
        foreach (var x in query)
        {
            largest = MathF.Max(largest, MathF.Abs(x));
        }

        if (!float.IsFinite(largest) || largest == 0)
        {
            return null;
        }

        // The query as 16-bit codes of step b: |q_i − b·c_i| ≤ b/2.
        var b = largest / _queryMax;
        var codes = new short[dim];
        long codeSum = 0;
        for (var i = 0; i < dim; i++)
        {
            codes[i] = (short)Math.Clamp(MathF.Round(query[i] / b), -_queryMax, _queryMax);
            codeSum += Math.Abs(codes[i]);
        }

        // |Σv·q − a·b·Σc_v·c_q| ≤ Σ|v|·b/2 + (a/2)·b·Σ|c_q|, scaled by s: (b/2)·_magnitude + (b·Σ|c_q|/2)·_step. The
        // float scan rounds each of its products and sums (≤ (dim + 2)·2⁻²³ of Σ|v·q| ≤ _magnitude·|q|max), and this
        // pass rounds too (the codes' sum as a float, the products here): a percent and 10⁻⁶ of the value cover it.
        return new Query(codes, b, (1.01f * b / 2) + ((dim + 2) * 1.2e-7f * largest), 1.01f * b * codeSum / 2);
    }

    /// <summary>
    /// For the first approx.Length rows: approx[r] ≈ the row's scaled dot product with <paramref name="query"/>, and
    /// bound[r] ≥ |exact − approx[r]|, where exact is the float scan's value. False (nothing written) for a query that is
    /// not finite or is all zeros: the caller scans exactly.
    /// </summary>
    public bool Score(ReadOnlySpan<float> query, Span<float> approx, Span<float> bound)
    {
        if (Encode(query) is not { } codes)
        {
            return false;
        }

        Score(codes, 0, approx, bound);
        return true;
    }

    /// <summary>As <see cref="Score(ReadOnlySpan{float}, Span{float}, Span{float})"/>, for the rows from <paramref name="start"/> on.</summary>
    public void Score(Query query, int start, Span<float> approx, Span<float> bound)
    {
        var rows = approx.Length;
        DotRows(query.Codes, start, approx);
        var step = _step.AsSpan(start, rows);
        var magnitude = _magnitude.AsSpan(start, rows);
        var (b, perMagnitude, perStep) = (query.Step, query.PerMagnitude, query.PerStep);
        var width = Vector<float>.Count;
        var r = 0;
        for (; r + width <= rows; r += width)
        {
            var value = new Vector<float>(step[r..]) * b * new Vector<float>(approx[r..]);
            value.CopyTo(approx[r..]);
            var error = (new Vector<float>(magnitude[r..]) * perMagnitude) + (new Vector<float>(step[r..]) * perStep) + (Vector.Abs(value) * 1e-6f);
            (error + new Vector<float>(1e-30f)).CopyTo(bound[r..]);
        }

        for (; r < rows; r++)
        {
            var value = step[r] * b * approx[r];
            approx[r] = value;
            bound[r] = (magnitude[r] * perMagnitude) + (step[r] * perStep) + (MathF.Abs(value) * 1e-6f) + 1e-30f;
        }
    }

    /// <summary>
    /// The approximate scores of <see cref="Score(Query, int, Span{float}, Span{float})"/> alone (the same floats),
    /// for a caller that ranks by them without rescoring: a third of the work per row is the bound. Kept apart from
    /// <see cref="Score(Query, int, Span{float}, Span{float})"/>, not called by it: a second pass over the rows for
    /// the bounds made the bounded search ~5% slower at 1M rows.
    /// </summary>
    public void Approximate(Query query, int start, Span<float> approx)
    {
        var rows = approx.Length;
        DotRows(query.Codes, start, approx);
        var step = _step.AsSpan(start, rows);
        var b = query.Step;
        var width = Vector<float>.Count;
        var r = 0;
        for (; r + width <= rows; r += width)
        {
            (new Vector<float>(step[r..]) * b * new Vector<float>(approx[r..])).CopyTo(approx[r..]);
        }

        for (; r < rows; r++)
        {
            approx[r] = step[r] * b * approx[r];
        }
    }

    /// <summary>into[r] = Σ codes of row r × <paramref name="query"/>, an int of at most 31 bits, as the nearest float.</summary>
    private void DotRows(short[] query, int start, Span<float> into)
    {
        var rows = into.Length;
        var codes = _codes.AsSpan(start * dim);
        if (Avx2.IsSupported && dim % 16 == 0)
        {
            ref var q = ref MemoryMarshal.GetArrayDataReference(query);
            ref var c = ref MemoryMarshal.GetReference(codes);
            var chunks = dim / 16;
            var r = 0;

            // Four rows at a time: their sums reduced together (three horizontal adds for four rows instead of one
            // full reduction each, which cost about as much as a row's products at dim 64).
            ref var into0 = ref MemoryMarshal.GetReference(into);
            for (; r + 4 <= rows; r += 4)
            {
                ref var row0 = ref Unsafe.Add(ref c, r * dim);
                ref var row1 = ref Unsafe.Add(ref row0, dim);
                ref var row2 = ref Unsafe.Add(ref row1, dim);
                ref var row3 = ref Unsafe.Add(ref row2, dim);
                Vector256<int> s0 = Vector256<int>.Zero, s1 = s0, s2 = s0, s3 = s0;
                for (var k = 0; k < chunks; k++)
                {
                    var at = (nuint)(k * 16);
                    var q16 = Vector256.LoadUnsafe(ref q, at);
                    s0 = Avx2.Add(s0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row0, at)), q16));
                    s1 = Avx2.Add(s1, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row1, at)), q16));
                    s2 = Avx2.Add(s2, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row2, at)), q16));
                    s3 = Avx2.Add(s3, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row3, at)), q16));
                }

                // Per 128-bit half: [row 0, row 1, row 2, row 3] partial sums; the halves added give the four rows.
                var halves = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
                var sums = Sse2.Add(halves.GetLower(), halves.GetUpper());
                Sse2.ConvertToVector128Single(sums).StoreUnsafe(ref Unsafe.Add(ref into0, r));
            }

            for (; r < rows; r++)
            {
                ref var row = ref Unsafe.Add(ref c, r * dim);
                var sum = Vector256<int>.Zero;
                for (var k = 0; k < chunks; k++)
                {
                    var widened = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row, (nuint)(k * 16)));
                    sum = Avx2.Add(sum, Avx2.MultiplyAddAdjacent(widened, Vector256.LoadUnsafe(ref q, (nuint)(k * 16))));
                }

                into[r] = Vector256.Sum(sum);
            }

            return;
        }

        for (var r = 0; r < rows; r++)
        {
            var row = codes.Slice(r * dim, dim);
            var sum = 0;
            for (var i = 0; i < dim; i++)
            {
                sum += row[i] * query[i];
            }

            into[r] = sum;
        }
    }

    private static T[] Grown<T>(T[] array, int length)
    {
        var grown = new T[length];
        array.CopyTo(grown, 0);
        return grown;
    }
}
