namespace SessionRec.Models.Featurization;

using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using SessionRec.Models.Data;

/// <summary>
/// An item's metadata as integer ids, ready for the item encoder. Every field is a bag of ids (0 = padding,
/// 1 = <c>[UNK]</c>): brand (1), one id per category level (<see cref="ItemFeaturizer.Levels"/>, each level keyed
/// by its full path so "Face" under Makeup and under Skin Care differ), title tokens, attribute values and
/// a price bucket.
/// </summary>
public sealed record ItemFeatures(int Brand, int[] Categories, int[] Title, int[] Attributes, int Price);

/// <summary>
/// Turns catalogue metadata into feature ids with vocabularies learned from the training catalogue. Values seen
/// on fewer than <see cref="MinCount"/> items map to <c>[UNK]</c>: an id-like value (an ASIN, a SKU) must not
/// become a per-item embedding, or the model would stop being item-ID free.
/// </summary>
public sealed class ItemFeaturizer
{
    public const int Pad = 0;
    public const int Unknown = 1;
    public const int Levels = 3;
    public const int MaxTitleTokens = 16;
    public const int MaxAttributes = 8;
    public const int MinCount = 2;
    public const string Version = "featurizer-1";

    /// <summary>Log-spaced price bucket edges (currency units).</summary>
    public static readonly double[] PriceEdges = [1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000];

    [JsonConstructor]
    public ItemFeaturizer(
        Dictionary<string, int> brands,
        Dictionary<string, int>[] categories,
        Dictionary<string, int> titleTokens,
        Dictionary<string, int> attributes)
    {
        Brands = brands;
        Categories = categories;
        TitleTokens = titleTokens;
        Attributes = attributes;
    }

    public Dictionary<string, int> Brands { get; }

    public Dictionary<string, int>[] Categories { get; }

    public Dictionary<string, int> TitleTokens { get; }

    public Dictionary<string, int> Attributes { get; }

    [JsonIgnore]
    public int BrandVocabulary => Brands.Count + 2;

    [JsonIgnore]
    public int[] CategoryVocabulary => [.. Categories.Select(c => c.Count + 2)];

    [JsonIgnore]
    public int TitleVocabulary => TitleTokens.Count + 2;

    [JsonIgnore]
    public int AttributeVocabulary => Attributes.Count + 2;

    [JsonIgnore]
    public static int PriceVocabulary => PriceEdges.Length + 3;

    public static ItemFeaturizer Fit(IEnumerable<ImportItem> items)
    {
        var brands = new Dictionary<string, int>(StringComparer.Ordinal);
        var levels = Enumerable.Range(0, Levels).Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
        var tokens = new Dictionary<string, int>(StringComparer.Ordinal);
        var attributes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (NormalizeBrand(item.Brand) is { } brand)
            {
                brands[brand] = brands.GetValueOrDefault(brand) + 1;
            }

            var paths = CategoryKeys(item.Categories);
            for (var l = 0; l < paths.Length; l++)
            {
                levels[l][paths[l]] = levels[l].GetValueOrDefault(paths[l]) + 1;
            }

            foreach (var token in Tokenize(item.Title).Distinct())
            {
                tokens[token] = tokens.GetValueOrDefault(token) + 1;
            }

            foreach (var value in AttributeKeys(item.Attributes))
            {
                attributes[value] = attributes.GetValueOrDefault(value) + 1;
            }
        }

        return new ItemFeaturizer(Vocabulary(brands), [.. levels.Select(Vocabulary)], Vocabulary(tokens), Vocabulary(attributes));
    }

    public ItemFeatures Featurize(ImportItem item)
    {
        var paths = CategoryKeys(item.Categories);
        var categories = new int[Levels];
        for (var l = 0; l < Levels; l++)
        {
            categories[l] = l < paths.Length ? Categories[l].GetValueOrDefault(paths[l], Unknown) : Pad;
        }

        int[] title = [.. Tokenize(item.Title).Distinct().Take(MaxTitleTokens).Select(t => TitleTokens.GetValueOrDefault(t, Unknown))];
        int[] attributes = [.. AttributeKeys(item.Attributes).Select(a => Attributes.GetValueOrDefault(a, Unknown)).Where(a => a != Unknown).Take(MaxAttributes)];
        var brand = NormalizeBrand(item.Brand) is { } b ? Brands.GetValueOrDefault(b, Unknown) : Pad;
        return new ItemFeatures(brand, categories, title, attributes, PriceBucket(item.Price));
    }

    /// <summary>Lower-case letter/digit runs; the words a title shares with other titles carry its meaning.</summary>
    public static IEnumerable<string> Tokenize(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            yield break;
        }

        var sb = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
            else if (sb.Length > 0)
            {
                if (sb.Length > 1)
                {
                    yield return sb.ToString();
                }

                sb.Clear();
            }
        }

        if (sb.Length > 1)
        {
            yield return sb.ToString();
        }
    }

    internal static string? NormalizeBrand(string? brand) =>
        string.IsNullOrWhiteSpace(brand) ? null : brand.Trim().ToLowerInvariant();

    internal static string[] CategoryKeys(IReadOnlyList<string> categories)
    {
        var keys = new string[Math.Min(Levels, categories.Count)];
        for (var l = 0; l < keys.Length; l++)
        {
            keys[l] = string.Join(" > ", categories.Take(l + 1)).ToLowerInvariant();
        }

        return keys;
    }

    internal static IEnumerable<string> AttributeKeys(IReadOnlyDictionary<string, string> attributes) =>
        attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => (a.Key + "=" + a.Value).ToLowerInvariant());

    private static int PriceBucket(decimal? price)
    {
        if (price is not { } p)
        {
            return Pad;
        }

        var bucket = Array.FindIndex(PriceEdges, e => (double)p < e);
        return 2 + (bucket < 0 ? PriceEdges.Length : bucket);
    }

    private static Dictionary<string, int> Vocabulary(Dictionary<string, int> counts)
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (value, _) in counts.Where(c => c.Value >= MinCount).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            vocabulary[value] = vocabulary.Count + 2;
        }

        return vocabulary;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Version}: {Brands.Count} brands, {string.Join("/", Categories.Select(c => c.Count))} categories, {TitleTokens.Count} title tokens, {Attributes.Count} attribute values");
}
