namespace SessionRec.Models.Featurization;

using System.Globalization;
using System.Text;
using SessionRec.Models.Data;

/// <summary>What one metadata field gives the item encoder over a catalogue.</summary>
/// <param name="ItemShare">Share of items that have the field at all.</param>
/// <param name="TokensPerItem">Mean tokens per item (brand 1, category levels, title words, attribute values).</param>
/// <param name="UnknownShare">Share of those tokens outside the vocabulary (seen on fewer than
/// <see cref="ItemFeaturizer.MinCount"/> items): they all map to one <c>[UNK]</c> id, so they tell nothing apart.</param>
public sealed record FieldCoverage(string Field, double ItemShare, double TokensPerItem, double UnknownShare);

/// <summary>
/// What a catalogue's metadata give an item-ID-free model: per field, how many items have it, how many tokens and how
/// many unknown ones; and the share of items whose metadata are identical to another item's — those get identical
/// item vectors, so a metadata-only model cannot tell them apart. Printed by `train`, `eval recs` and `import`,
/// recorded in model manifests and results files.
/// </summary>
public sealed record FeatureCoverage(int Items, IReadOnlyList<FieldCoverage> Fields, double IdenticalShare, int DistinctFeatureSets)
{
    /// <summary>Above this share of items with another item's exact metadata, the metadata cannot separate items.</summary>
    public const double IdenticalWarning = 0.2;

    /// <summary>Above this share of unknown tokens in a field, the field is mostly noise to the encoder.</summary>
    public const double UnknownWarning = 0.5;

    public bool SeparatesItems => IdenticalShare <= IdenticalWarning;

    public static FeatureCoverage Measure(ItemFeaturizer featurizer, IReadOnlyList<ImportItem> items)
    {
        var n = Math.Max(1, items.Count);
        var tallies = new Dictionary<string, (int Items, long Tokens, long Unknown)>(StringComparer.Ordinal);
        void Tally(string field, int tokens, int unknown)
        {
            var t = tallies.GetValueOrDefault(field);
            tallies[field] = tokens == 0 ? t : (t.Items + 1, t.Tokens + tokens, t.Unknown + unknown);
        }

        var sets = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var brand = ItemFeaturizer.NormalizeBrand(item.Brand);
            Tally("brand", brand is null ? 0 : 1, brand is not null && !featurizer.Brands.ContainsKey(brand) ? 1 : 0);
            var paths = ItemFeaturizer.CategoryKeys(item.Categories);
            Tally("categories", paths.Length, paths.Where((p, l) => !featurizer.Categories[l].ContainsKey(p)).Count());
            var words = ItemFeaturizer.Tokenize(item.Title).Distinct().Take(ItemFeaturizer.MaxTitleTokens).ToList();
            Tally("title", words.Count, words.Count(w => !featurizer.TitleTokens.ContainsKey(w)));
            var attributes = ItemFeaturizer.AttributeKeys(item.Attributes).ToList();
            Tally("attributes", attributes.Count, attributes.Count(a => !featurizer.Attributes.ContainsKey(a)));
            Tally("price", item.Price is null ? 0 : 1, 0);

            var key = Key(featurizer.Featurize(item));
            sets[key] = sets.GetValueOrDefault(key) + 1;
        }

        FieldCoverage Field(string name)
        {
            var t = tallies.GetValueOrDefault(name);
            return new FieldCoverage(name, Math.Round((double)t.Items / n, 4), Math.Round((double)t.Tokens / n, 2), t.Tokens == 0 ? 0 : Math.Round((double)t.Unknown / t.Tokens, 4));
        }

        var identical = sets.Values.Where(c => c > 1).Sum();
        return new FeatureCoverage(
            items.Count,
            [Field("brand"), Field("categories"), Field("title"), Field("attributes"), Field("price")],
            Math.Round((double)identical / n, 4),
            sets.Count);
    }

    /// <summary>What the item encoder sees of an item: bags are unordered (mean of embeddings).</summary>
    private static string Key(ItemFeatures f) =>
        string.Join('|', f.Brand, string.Join(',', f.Categories), string.Join(',', f.Title.Order()), string.Join(',', f.Attributes.Order()), f.Price);

    /// <summary>What the data cannot give, in words, for the console and the results file.</summary>
    public IEnumerable<string> Warnings()
    {
        if (!SeparatesItems)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{IdenticalShare:P0} of the items share their exact metadata with another item ({DistinctFeatureSets:N0} distinct sets for {Items:N0} items): a metadata-only model gives them one vector; item-ID residuals (the hybrid model) and the co-occurrence sources must tell them apart");
        }

        foreach (var field in Fields.Where(f => f.TokensPerItem > 0 && f.UnknownShare > UnknownWarning))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{field.UnknownShare:P0} of the {field.Field} tokens occur on fewer than {ItemFeaturizer.MinCount} items and are unknown to the model");
        }

        if (Fields.All(f => f.TokensPerItem == 0))
        {
            yield return "the items have no metadata at all";
        }
    }

    /// <summary>The summary, then each warning ("warning: …"): what `import`, `train` and `eval recs` print.</summary>
    public IEnumerable<string> Lines() => [ToString(), .. Warnings().Select(w => "warning: " + w)];

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"metadata of {Items:N0} items: ");
        sb.Append(string.Join(", ", Fields.Select(f => f.TokensPerItem == 0
            ? $"{f.Field} absent"
            : string.Create(CultureInfo.InvariantCulture, $"{f.Field} on {f.ItemShare:P0} ({f.TokensPerItem:0.##} per item, {f.UnknownShare:P0} unknown)"))));
        sb.Append(CultureInfo.InvariantCulture, $"; {IdenticalShare:P1} of items identical to another ({DistinctFeatureSets:N0} distinct)");
        return sb.ToString();
    }
}
