namespace SessionRec.Benchmarks;

using SessionRec.Models.Data;

/// <summary>Catalogues with realistic metadata shapes (brands, a 6/40/130 category tree, six-word titles, prices).</summary>
public static class SyntheticCatalogue
{
    public static List<ImportItem> Items(int count, Random random)
    {
        string[] words = ["matte", "gloss", "repair", "volume", "serum", "cream", "shine", "fresh", "rose", "argan", "clay", "mint", "oil", "mask", "tonic", "balm"];
        return [.. Enumerable.Range(0, count).Select(i => new ImportItem(
            $"item-{i}",
            string.Join(' ', Enumerable.Range(0, 6).Select(_ => words[random.Next(words.Length)])),
            $"brand{random.Next(500)}",
            [$"c{i % 6}", $"c{i % 6}-{i % 40}", $"c{i % 6}-{i % 40}-{i % 130}"],
            new Dictionary<string, string>(),
            random.Next(100)))];
    }
}
