namespace SessionRec.Models.Ranking;

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

/// <summary>SIMD dot products for scoring item vectors.</summary>
public static class VectorMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        for (var i = 0; i < va.Length; i++)
        {
            sum += va[i] * vb[i];
        }

        var result = Vector.Sum(sum);
        for (var i = va.Length * Vector<float>.Count; i < a.Length; i++)
        {
            result += a[i] * b[i];
        }

        return result;
    }

    /// <summary>
    /// into[r] = scale[r] × Dot(query, row r of <paramref name="matrix"/>) for the rows of <paramref name="into"/>,
    /// equal bit for bit to calling <see cref="Dot"/> per row. Four rows at a time: each row's sum is still one
    /// chain of adds in the same order, but four independent chains keep the core busy where one waits on the
    /// previous add (a 12k × 64 scan with its top-100: 244 → 125 µs against a call per row, BenchmarkDotNet, same run;
    /// past that, reading the matrix bounds it).
    /// </summary>
    public static void DotRows(ReadOnlySpan<float> query, ReadOnlySpan<float> matrix, ReadOnlySpan<float> scale, Span<float> into)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale.Length, into.Length, nameof(scale));
        DotRows(query, matrix, scale, scaled: true, into);
    }

    /// <summary>into[r] = Dot(query, row r of <paramref name="matrix"/>) for the rows of <paramref name="into"/>, four rows at a time as the scaled form.</summary>
    public static void DotRows(ReadOnlySpan<float> query, ReadOnlySpan<float> matrix, Span<float> into) =>
        DotRows(query, matrix, default, scaled: false, into);

    private static void DotRows(ReadOnlySpan<float> query, ReadOnlySpan<float> matrix, ReadOnlySpan<float> scale, bool scaled, Span<float> into)
    {
        var dim = query.Length;
        var rows = into.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(matrix.Length, rows * dim, nameof(matrix));
        var width = Vector<float>.Count;
        if (dim == 0 || dim % width != 0)
        {
            for (var row = 0; row < rows; row++)
            {
                var sum = Dot(query, matrix.Slice(row * dim, dim));
                into[row] = scaled ? scale[row] * sum : sum;
            }

            return;
        }

        var chunks = dim / width;
        ref var q = ref Unsafe.As<float, Vector<float>>(ref MemoryMarshal.GetReference(query));
        ref var m = ref Unsafe.As<float, Vector<float>>(ref MemoryMarshal.GetReference(matrix));
        var r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            ref var m0 = ref Unsafe.Add(ref m, r * chunks);
            ref var m1 = ref Unsafe.Add(ref m0, chunks);
            ref var m2 = ref Unsafe.Add(ref m1, chunks);
            ref var m3 = ref Unsafe.Add(ref m2, chunks);
            var s0 = Vector<float>.Zero;
            var s1 = Vector<float>.Zero;
            var s2 = Vector<float>.Zero;
            var s3 = Vector<float>.Zero;
            for (var i = 0; i < chunks; i++)
            {
                var qi = Unsafe.Add(ref q, i);
                s0 += qi * Unsafe.Add(ref m0, i);
                s1 += qi * Unsafe.Add(ref m1, i);
                s2 += qi * Unsafe.Add(ref m2, i);
                s3 += qi * Unsafe.Add(ref m3, i);
            }

            var (t0, t1, t2, t3) = (Vector.Sum(s0), Vector.Sum(s1), Vector.Sum(s2), Vector.Sum(s3));
            if (scaled)
            {
                (t0, t1, t2, t3) = (scale[r] * t0, scale[r + 1] * t1, scale[r + 2] * t2, scale[r + 3] * t3);
            }

            into[r] = t0;
            into[r + 1] = t1;
            into[r + 2] = t2;
            into[r + 3] = t3;
        }

        for (; r < rows; r++)
        {
            var sum = Dot(query, matrix.Slice(r * dim, dim));
            into[r] = scaled ? scale[r] * sum : sum;
        }
    }
}
