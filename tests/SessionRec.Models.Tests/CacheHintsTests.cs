namespace SessionRec.Models.Tests;

using SessionRec.Models;

/// <summary>Prefetch hints (<see cref="CacheHints"/>) take raw addresses: out of range they must be ignored, never read or written.</summary>
public sealed class CacheHintsTests
{
    [Fact(Timeout = 10_000)]
    public void A_hint_anywhere_in_or_out_of_an_array_reads_and_changes_nothing()
    {
        var values = Enumerable.Range(0, 100).Select(i => (float)i).ToArray();
        long[] indexes = [0, 1, 15, 16, 99, 100, 101, -1, -64, long.MaxValue, long.MinValue, int.MaxValue];
        foreach (var index in indexes)
        {
            CacheHints.Prefetch(values, index);
            foreach (var count in new[] { 0, 1, 16, 17, 200 })
            {
                CacheHints.Prefetch(values, index, count);
            }
        }

        CacheHints.Prefetch(Array.Empty<float>(), 0);
        CacheHints.Prefetch(Array.Empty<long>(), 0, 8);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (float)i), values);
    }
}
