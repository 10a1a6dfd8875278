namespace SessionRec.Models.Data;

using System.Globalization;

/// <summary>
/// The poor-metadata ablation (`--metadata anonymous`): a catalogue as shops with only a SKU and a few category ids
/// describe it. Each brand and each category (by its full path) becomes an opaque attribute id shared by every item
/// that had it; titles, prices and the original attributes are dropped, and no field but the attribute bag is left,
/// as in public data sets whose only item metadata are anonymous attribute ids. Interactions are unchanged.
/// </summary>
public static class MetadataAnonymizer
{
    public const string Suffix = "-anonymous";

    public static Dataset Anonymize(Dataset dataset)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        string Opaque(string value) =>
            ids.TryGetValue(value, out var id) ? id : ids[value] = "a" + ids.Count.ToString(CultureInfo.InvariantCulture);

        var items = new List<ImportItem>(dataset.Items.Count);
        foreach (var item in dataset.Items)
        {
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Featurization.ItemFeaturizer.NormalizeBrand(item.Brand) is { } brand)
            {
                attributes["brand"] = Opaque("brand:" + brand);
            }

            for (var level = 0; level < item.Categories.Count; level++)
            {
                attributes["category" + level.ToString(CultureInfo.InvariantCulture)] =
                    Opaque("category:" + string.Join(" > ", item.Categories.Take(level + 1)).ToLowerInvariant());
            }

            items.Add(new ImportItem(item.Id, string.Empty, null, [], attributes, null));
        }

        return new Dataset(dataset.Name + Suffix, items, dataset.Interactions);
    }
}
