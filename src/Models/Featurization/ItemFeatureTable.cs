namespace SessionRec.Models.Featurization;

using SessionRec.Models.Data;

/// <summary>
/// The feature ids of a whole catalogue as dense row-major arrays, padded with 0: the item encoder's input, both
/// in training (TorchSharp) and in serving (ONNX Runtime).
/// </summary>
public sealed class ItemFeatureTable
{
    private ItemFeatureTable(int count, long[] brand, long[] categories, long[] title, long[] attributes, long[] price)
    {
        Count = count;
        Brand = brand;
        Categories = categories;
        Title = title;
        Attributes = attributes;
        Price = price;
    }

    public int Count { get; }

    /// <summary>[Count]</summary>
    public long[] Brand { get; }

    /// <summary>[Count, <see cref="ItemFeaturizer.Levels"/>]</summary>
    public long[] Categories { get; }

    /// <summary>[Count, <see cref="ItemFeaturizer.MaxTitleTokens"/>]</summary>
    public long[] Title { get; }

    /// <summary>[Count, <see cref="ItemFeaturizer.MaxAttributes"/>]</summary>
    public long[] Attributes { get; }

    /// <summary>[Count]</summary>
    public long[] Price { get; }

    public static ItemFeatureTable Build(ItemFeaturizer featurizer, IReadOnlyList<ImportItem> items) =>
        Build([.. items.Select(featurizer.Featurize)]);

    public static ItemFeatureTable Build(IReadOnlyList<ItemFeatures> features)
    {
        var n = features.Count;
        var brand = new long[n];
        var categories = new long[n * ItemFeaturizer.Levels];
        var title = new long[n * ItemFeaturizer.MaxTitleTokens];
        var attributes = new long[n * ItemFeaturizer.MaxAttributes];
        var price = new long[n];
        for (var i = 0; i < n; i++)
        {
            var f = features[i];
            brand[i] = f.Brand;
            price[i] = f.Price;
            for (var l = 0; l < ItemFeaturizer.Levels; l++)
            {
                categories[(i * ItemFeaturizer.Levels) + l] = f.Categories[l];
            }

            for (var t = 0; t < f.Title.Length; t++)
            {
                title[(i * ItemFeaturizer.MaxTitleTokens) + t] = f.Title[t];
            }

            for (var a = 0; a < f.Attributes.Length; a++)
            {
                attributes[(i * ItemFeaturizer.MaxAttributes) + a] = f.Attributes[a];
            }
        }

        return new ItemFeatureTable(n, brand, categories, title, attributes, price);
    }
}
