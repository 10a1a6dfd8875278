namespace SessionRec.Models;

/// <summary>
/// Asks the processor to start loading memory a caller will read a little later, so that reads scattered over arrays
/// larger than the caches overlap instead of each missing in turn. Only hints: nothing is read, an index out of range
/// is ignored, and an array moved by the collector meanwhile costs the hint and nothing else.
/// </summary>
public static class CacheHints
{
    /// <summary>The cache line holding array[index].</summary>
    public static unsafe void Prefetch<T>(T[] array, long index)
        where T : unmanaged
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported && (ulong)index < (ulong)array.Length)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(System.Runtime.CompilerServices.Unsafe.AsPointer(ref array[index]));
        }
    }

    /// <summary>The cache lines holding array[index .. index + count).</summary>
    public static void Prefetch<T>(T[] array, long index, int count)
        where T : unmanaged
    {
        var perLine = Math.Max(1, 64 / System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        for (var at = 0; at < count; at += perLine)
        {
            Prefetch(array, index + at);
        }

        if (count > 0)
        {
            Prefetch(array, index + count - 1); // the last line, when the range starts inside one
        }
    }
}
