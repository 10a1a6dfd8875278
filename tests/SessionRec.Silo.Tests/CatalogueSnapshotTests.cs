namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Silo.Hosting;
using SessionRec.Silo.Replicas;

/// <summary>A silo's saved catalogue read back item for item, and only for the change feed it describes.</summary>
public sealed class CatalogueSnapshotTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sessionrec-catalogue-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private CatalogueSnapshots Snapshots() =>
        new(Options.Create(new StorageOptions { DataPath = _data }), NullLogger<CatalogueSnapshots>.Instance);

    [Fact(Timeout = 60_000)]
    public void Every_field_of_every_item_is_read_back_for_the_same_feed_and_nothing_for_another()
    {
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        CatalogueItem[] items =
        [
            new("lip-1", "OPI Red Lipstick", "OPI", ["Makeup", "Lips"], new Dictionary<string, string> { ["colour"] = "red", ["finish"] = "matte" }, 12.5m, true, at),
            new("bare", "", null, [], new Dictionary<string, string>(), null, false, at.AddDays(-1)),
            new("é 42?#", "Crème — 50 ml", "L'Oréal", ["Skin Care"], new Dictionary<string, string>(), 0m, true, at.AddTicks(1)),
        ];
        Snapshots().Save("shop", "feed-1", version: 42, items);

        var restored = Snapshots().TryLoad("shop", "feed-1");
        Assert.NotNull(restored);
        Assert.Equal(42, restored.Version);
        Assert.Equal(items.Length, restored.Items.Count);
        for (var i = 0; i < items.Length; i++)
        {
            var (expected, actual) = (items[i], restored.Items[i]);
            Assert.Equal((expected.Id, expected.Title, expected.Brand, expected.Price, expected.Available, expected.UpdatedAt), (actual.Id, actual.Title, actual.Brand, actual.Price, actual.Available, actual.UpdatedAt));
            Assert.Equal(expected.Categories, actual.Categories);
            Assert.Equal(expected.Attributes.OrderBy(a => a.Key), actual.Attributes.OrderBy(a => a.Key));
        }

        // A wiped or replaced store starts another change feed: its versions mean other changes.
        Assert.Null(Snapshots().TryLoad("shop", "feed-2"));
        Assert.Null(Snapshots().TryLoad("other-shop", "feed-1"));

        // A torn or foreign file is ignored, never a crash.
        File.WriteAllBytes(Path.Combine(_data, "snapshots", "shop", "catalogue.bin"), [1, 0, 0, 0, 9]);
        Assert.Null(Snapshots().TryLoad("shop", "feed-1"));
    }
}
