namespace SessionRec.TestSupport;

using SessionRec.Models.Data;
using SessionRec.Models.Evaluation;

/// <summary>
/// A small catalogue with real structure: items belong to brands and a 3-level category tree, titles share words,
/// and users walk within one category branch, so a model that reads metadata can learn who comes next.
/// </summary>
public static class SyntheticData
{
    public static SequenceDataset Create(int items = 300, int users = 400, int seed = 5)
    {
        var random = new Random(seed);
        string[] primaries = ["Makeup", "Skin Care", "Hair Care"];
        string[] words = ["matte", "gloss", "repair", "volume", "serum", "cream", "shine", "fresh", "rose", "argan", "clay", "mint"];
        var catalogue = new List<ImportItem>();
        for (var i = 0; i < items; i++)
        {
            var p = i % primaries.Length;
            var sub = (i / 3) % 4;
            var leaf = (i / 12) % 3;
            var brand = $"brand{(i / 7) % 15}";
            var title = $"{brand} {words[(p * 4) + sub % 4]} {words[random.Next(words.Length)]} no {i % 5}";
            catalogue.Add(new ImportItem($"item-{i}", title, brand, [primaries[p], $"{primaries[p]} sub {sub}", $"leaf {leaf}"], new Dictionary<string, string> { ["sku"] = $"SKU{i}" }, i % 4 == 0 ? null : 3 + (i % 40)));
        }

        var sequences = new List<int[]>();
        for (var u = 0; u < users; u++)
        {
            // Each user stays in one primary category and mostly in one subcategory.
            var p = random.Next(primaries.Length);
            var sub = random.Next(4);
            var length = 4 + random.Next(8);
            var sequence = new List<int>();
            while (sequence.Count < length)
            {
                var s = random.NextDouble() < 0.8 ? sub : random.Next(4);
                var candidates = Enumerable.Range(0, items).Where(i => i % 3 == p && (i / 3) % 4 == s && !sequence.Contains(i)).ToArray();
                sequence.Add(candidates[random.Next(candidates.Length)]);
            }

            sequences.Add([.. sequence]);
        }

        return new SequenceDataset("synthetic", catalogue, [.. Enumerable.Range(0, users).Select(u => $"user-{u}")], sequences);
    }

    public static LeaveOneOutSplit Split(int seed = 5) => LeaveOneOutSplit.Create(Create(seed: seed));
}
