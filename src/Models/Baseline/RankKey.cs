namespace SessionRec.Models.Baseline;

/// <summary>
/// An (item, score) pair as one 64-bit key whose ascending order is the ranking's: highest score first, a tie to the
/// lower item. A span of keys sorts with the runtime's primitive sort; a comparer of pairs is called through an
/// interface for every comparison (measured: sorting ~900 candidates a request was a tenth of the ranking's CPU).
/// Items are non-negative; −0 ranks as 0.
/// </summary>
public static class RankKey
{
    public static ulong Of(float score, int item)
    {
        var bits = BitConverter.SingleToUInt32Bits(score + 0f);
        var ascending = (bits & 0x8000_0000u) == 0 ? bits | 0x8000_0000u : ~bits;
        return ((ulong)~ascending << 32) | (uint)item;
    }

    public static int Item(ulong key) => (int)(uint)key;

    public static float Score(ulong key)
    {
        var ascending = ~(uint)(key >> 32);
        return BitConverter.UInt32BitsToSingle((ascending & 0x8000_0000u) != 0 ? ascending & 0x7FFF_FFFFu : ~ascending);
    }

    /// <summary>
    /// Puts the <paramref name="count"/> best keys first, in order (the rest after them in no order): a selection then a
    /// sort of those few, when they are few of many (the ranking keeps ~70 of ~900 candidates).
    /// </summary>
    public static void SortBest(Span<ulong> keys, int count)
    {
        count = Math.Min(count, keys.Length);
        if (count <= 0)
        {
            return;
        }

        if (keys.Length > 64 && count * 4 < keys.Length)
        {
            QuickSelect.Select(keys, count - 1, default(Ascending));
            keys[..count].Sort();
            return;
        }

        keys.Sort();
    }

    private readonly struct Ascending : QuickSelect.IOrder<ulong>
    {
        public bool Before(ulong a, ulong b) => a < b;
    }
}
