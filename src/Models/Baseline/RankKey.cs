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
}
