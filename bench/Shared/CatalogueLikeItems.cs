namespace SessionRec.Bench;

/// <summary>
/// The synthetic items the load generator adds with <c>--add-items</c> (Beauty's own category paths, brands and title
/// words, in the same order from the same seed), so that <c>ann-recall --synthetic load-test</c> measures recall on
/// the catalogue the serving benchmark serves. Linked into both benchmark projects.
/// </summary>
public static class CatalogueLikeItems
{
    public static IEnumerable<(string Id, string Title, string Brand, string[] Categories)> Make(int count)
    {
        string[] brands = [.. Enumerable.Range(1, 400).Select(i => $"Brand{i}")];
        string[][] paths = [["Makeup", "Lips", "Lipstick"], ["Makeup", "Nails", "Nail Polish"], ["Makeup", "Eyes", "Mascara"], ["Skin Care", "Face", "Creams & Moisturizers"], ["Hair Care", "Shampoos"], ["Fragrance", "Women", "Eau de Parfum"], ["Tools & Accessories", "Makeup Brushes & Tools", "Brushes & Applicators"]];
        string[] words = ["red", "matte", "gloss", "long", "lasting", "shine", "nude", "pink", "black", "volume", "hydrating", "cream", "gel", "serum", "oil", "spray", "brush", "mini", "set", "natural", "organic", "vitamin", "repair", "color"];
        var random = new Random(42);
        for (var i = 0; i < count; i++)
        {
            var path = paths[random.Next(paths.Length)];
            var title = string.Join(' ', Enumerable.Range(0, 4).Select(_ => words[random.Next(words.Length)])) + " " + path[^1];
            yield return ($"syn-{i}", title, brands[random.Next(brands.Length)], path);
        }
    }
}
