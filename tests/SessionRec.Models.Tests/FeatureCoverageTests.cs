namespace SessionRec.Models.Tests;

using SessionRec.Models.Data;
using SessionRec.Models.Featurization;

public sealed class FeatureCoverageTests
{
    private static ImportItem Item(string id, string title, string? brand, string[] categories, decimal? price = null, Dictionary<string, string>? attributes = null) =>
        new(id, title, brand, categories, attributes ?? [], price);

    [Fact]
    public void A_catalogue_whose_items_share_their_metadata_is_reported_as_unable_to_separate_them()
    {
        // 8 items, two metadata sets of 4 items each: a metadata-only model sees two items.
        ImportItem[] items = [.. Enumerable.Range(0, 8).Select(i => Item($"i{i}", "", null, [], attributes: new() { ["color"] = i % 2 == 0 ? "red" : "blue" }))];
        var coverage = FeatureCoverage.Measure(ItemFeaturizer.Fit(items), items);

        Assert.Equal(1.0, coverage.IdenticalShare);
        Assert.Equal(2, coverage.DistinctFeatureSets);
        Assert.False(coverage.SeparatesItems);
        Assert.Contains(coverage.Warnings(), w => w.Contains("share their exact metadata", StringComparison.Ordinal));
        var attributes = coverage.Fields.Single(f => f.Field == "attributes");
        Assert.Equal((1.0, 1.0, 0.0), (attributes.ItemShare, attributes.TokensPerItem, attributes.UnknownShare));
        Assert.Equal(0, coverage.Fields.Single(f => f.Field == "title").TokensPerItem);
        Assert.Contains("title absent", coverage.ToString(), StringComparison.Ordinal);
        Assert.Equal([coverage.ToString(), .. coverage.Warnings().Select(w => "warning: " + w)], coverage.Lines());
    }

    [Fact]
    public void Rich_metadata_separate_items_and_unknown_tokens_are_counted_per_field()
    {
        // Titles share "cream"/"serum" (known) and each has one word of its own (unknown: seen on one item only).
        ImportItem[] items =
        [
            Item("a", "cream alpha", "acme", ["Beauty", "Skin"], 5m),
            Item("b", "cream bravo", "acme", ["Beauty", "Hair"], 12m),
            Item("c", "serum charlie", "zen", ["Beauty", "Skin"], 30m),
            Item("d", "serum delta", "zen", ["Beauty", "Hair"], 60m),
        ];
        var coverage = FeatureCoverage.Measure(ItemFeaturizer.Fit(items), items);

        Assert.True(coverage.SeparatesItems);
        Assert.Equal(0, coverage.IdenticalShare);
        var title = coverage.Fields.Single(f => f.Field == "title");
        Assert.Equal((2.0, 0.5), (title.TokensPerItem, title.UnknownShare));
        Assert.Equal(0, coverage.Fields.Single(f => f.Field == "brand").UnknownShare);
        Assert.Equal(1.0, coverage.Fields.Single(f => f.Field == "price").ItemShare);
        Assert.Empty(coverage.Warnings());
    }

    [Fact]
    public void A_catalogue_without_metadata_says_so()
    {
        ImportItem[] items = [Item("a", "", null, []), Item("b", "", null, [])];
        var coverage = FeatureCoverage.Measure(ItemFeaturizer.Fit(items), items);
        Assert.Contains("the items have no metadata at all", coverage.Warnings());
        Assert.False(coverage.SeparatesItems);
    }

    [Fact]
    public void Anonymized_metadata_keep_who_shares_a_brand_or_category_and_nothing_readable()
    {
        var dataset = new Dataset(
            "shop",
            [
                Item("a", "rose cream", "Acme", ["Beauty", "Skin"], 5m),
                Item("b", "mint gel", "acme ", ["Beauty", "Hair"]),
                Item("c", "oud oil", "Zen", ["Beauty", "Skin"], 9m, new() { ["size"] = "50ml" }),
            ],
            [new ImportInteraction("u", "a", "view", null, null)]);

        var anonymous = MetadataAnonymizer.Anonymize(dataset);

        Assert.Equal("shop-anonymous", anonymous.Name);
        Assert.Same(dataset.Interactions, anonymous.Interactions);
        Assert.All(anonymous.Items, i => Assert.True(i.Title == "" && i.Brand is null && i.Categories.Count == 0 && i.Price is null));
        var (a, b, c) = (anonymous.Items[0].Attributes, anonymous.Items[1].Attributes, anonymous.Items[2].Attributes);
        Assert.Equal(a["brand"], b["brand"]); // "Acme" and "acme " are one brand
        Assert.NotEqual(a["brand"], c["brand"]);
        Assert.Equal(a["category1"], c["category1"]); // Beauty > Skin
        Assert.NotEqual(a["category1"], b["category1"]);
        Assert.Equal(a["category0"], b["category0"]);
        Assert.False(c.ContainsKey("size"));
        var values = anonymous.Items.SelectMany(i => i.Attributes.Values).ToList();
        Assert.DoesNotContain(values, v => v.Contains("acme", StringComparison.OrdinalIgnoreCase) || v.Contains("skin", StringComparison.OrdinalIgnoreCase));
    }
}
