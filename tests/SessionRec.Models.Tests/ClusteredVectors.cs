namespace SessionRec.Models.Tests;

using SessionRec.Models.Serving;

/// <summary>
/// Item vectors the way a catalogue's lie: rows around a few random centres in [−1, 1]^dim, each row its centre plus
/// uniform noise, optionally scaled by a length drawn per row (the tests of approximate and bounded scans need rows
/// of unequal length).
/// </summary>
internal static class ClusteredVectors
{
    /// <param name="spread">The noise of each coordinate is uniform in ±spread.</param>
    /// <param name="length">Draws a row's length (null: every row has its centre's scale).</param>
    public static float[] Make(Random random, int rows, int dim, int centres, float spread, Func<Random, float>? length = null)
    {
        var points = Enumerable.Range(0, centres).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray()).ToArray();
        var vectors = new float[rows * dim];
        for (var row = 0; row < rows; row++)
        {
            var centre = points[random.Next(points.Length)];
            var scale = length?.Invoke(random) ?? 1f;
            for (var d = 0; d < dim; d++)
            {
                vectors[(row * dim) + d] = scale * (centre[d] + (spread * (float)((random.NextDouble() * 2) - 1)));
            }
        }

        return vectors;
    }

    /// <summary>An index of <see cref="Make"/>'s rows, named <paramref name="prefix"/>0, 1, ….</summary>
    public static ItemVectorIndex Index(float[] vectors, int dim, string prefix, string version = "v", bool cosine = false)
    {
        var index = new ItemVectorIndex(version, dim, cosine);
        index.Set([.. Enumerable.Range(0, vectors.Length / dim).Select(i => $"{prefix}{i}")], vectors);
        return index;
    }
}
