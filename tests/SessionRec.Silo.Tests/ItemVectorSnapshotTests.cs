namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SessionRec.Models.Serving;
using SessionRec.Silo.Hosting;
using SessionRec.Silo.Replicas;

/// <summary>A silo's saved item vectors and approximate index read back as they were, and only for the feed they describe.</summary>
public sealed class ItemVectorSnapshotTests : IDisposable
{
    private const int Dim = 16;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sessionrec-snapshots-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private ItemVectorSnapshots Snapshots() =>
        new(Options.Create(new StorageOptions { DataPath = _data }), NullLogger<ItemVectorSnapshots>.Instance);

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count * Dim).Select(_ => (float)((random.NextDouble() * 2) - 1))];
    }

    [Fact(Timeout = 60_000)]
    public void Vectors_and_the_approximate_index_are_read_back_with_the_rows_it_no_longer_describes()
    {
        // Every fourth item is a copy of the one before it: the index holds those vectors once.
        var index = new ItemVectorIndex("v1", Dim, cosine: true);
        var distinct = Random(2_000, 1);
        index.Set([.. Enumerable.Range(0, 2_000).Select(i => $"item-{i}")], [.. Enumerable.Range(0, 2_000).SelectMany(i => distinct.AsSpan((i % 4 == 3 ? i - 1 : i) * Dim, Dim).ToArray())]);
        var build = index.BeginAnn();
        Assert.Null(index.AttachAnn(AnnIndex.Build(index, build.Rows, collapseDuplicates: true), build));

        // After the build: one item changed, one added. The index serves both exactly; so must the restored one.
        index.Set(["item-7", "item-new"], Random(2, 2));
        var (ids, vectors, changed) = index.Copy();
        Assert.Equal([7], changed);
        Snapshots().Save("shop", "v1", cosine: true, Dim, epoch: "feed-1", catalogueVersion: 42, ids, vectors, index.Ann!.Index, changed);

        var restored = Snapshots().TryLoad("shop", "v1", cosine: true, Dim, epoch: "feed-1");
        Assert.NotNull(restored);
        Assert.Equal(42, restored.CatalogueVersion);
        var copy = restored.Index;
        Assert.Equal((index.Count, true), (copy.Count, copy.Cosine));
        Assert.Equal(index.Matrix.ToArray(), copy.Matrix.ToArray());
        Assert.True(copy.TryGetRow("item-new", out var added));
        Assert.Equal(2_000, added);
        var graph = Assert.IsType<AnnIndex>(copy.Ann!.Index);
        Assert.Equal((2_000, 1_500), (graph.Rows, graph.Distinct));
        Assert.Equal(((AnnIndex)index.Ann.Index).Representatives(), graph.Representatives());
        Assert.Equal([7], copy.Ann.Changed);
        var query = Random(1, 3);
        Assert.Equal(index.Ann.Index.Search(query, 50), copy.Ann.Index.Search(query, 50));
        Assert.True(copy.Ann.Index.MeasureRecall(copy) >= 0.9);

        // Changes after the restore are recorded against the restored index, as for a built one.
        copy.Set(["item-9"], Random(1, 4));
        Assert.Equal([7, 9], copy.Ann!.Changed);
    }

    [Fact(Timeout = 60_000)]
    public void An_inverted_file_index_is_read_back_with_its_lists_and_searches_as_it_did()
    {
        var index = new ItemVectorIndex("v1", Dim);
        index.Set([.. Enumerable.Range(0, 3_000).Select(i => $"item-{i}")], Random(3_000, 11));
        var build = index.BeginAnn();
        var built = InvertedFileIndex.Build(index, build.Rows);
        Assert.Null(index.AttachAnn(built, build));
        index.Set(["item-3"], Random(1, 12));
        var (ids, vectors, changed) = index.Copy();
        Snapshots().Save("shop", "v1", cosine: false, Dim, epoch: "feed-1", catalogueVersion: 7, ids, vectors, built, changed);

        var copy = Snapshots().TryLoad("shop", "v1", cosine: false, Dim, epoch: "feed-1")!.Index;
        var restored = Assert.IsType<InvertedFileIndex>(copy.Ann!.Index);
        Assert.Equal((built.Rows, built.Lists, built.Probe), (restored.Rows, restored.Lists, restored.Probe));
        Assert.Equal([3], copy.Ann.Changed);
        for (var q = 0; q < 5; q++)
        {
            var query = Random(1, 20 + q);
            // Row 3 changed after the build (it is scored exactly either way): the restored lists hold its new vector.
            Assert.Equal(built.Search(query, 100).Where(r => r != 3), restored.Search(query, 100).Where(r => r != 3));
        }

        Assert.True(restored.MeasureRecall(copy) >= 0.9);
    }

    [Fact(Timeout = 60_000)]
    public void A_snapshot_of_another_feed_model_or_scoring_or_an_unreadable_one_is_not_used()
    {
        var index = new ItemVectorIndex("v1", Dim);
        index.Set(["a", "b"], Random(2, 5));
        var (ids, vectors, changed) = index.Copy();
        var snapshots = Snapshots();
        snapshots.Save("shop", "v1", cosine: false, Dim, epoch: "feed-1", catalogueVersion: 3, ids, vectors, ann: null, changed);
        Assert.NotNull(snapshots.TryLoad("shop", "v1", cosine: false, Dim, "feed-1"));
        Assert.Null(snapshots.TryLoad("shop", "v1", cosine: false, Dim, "feed-2"));
        Assert.Null(snapshots.TryLoad("shop", "v2", cosine: false, Dim, "feed-1"));
        Assert.Null(snapshots.TryLoad("shop", "v1", cosine: true, Dim, "feed-1"));
        Assert.Null(snapshots.TryLoad("other", "v1", cosine: false, Dim, "feed-1"));

        // A newer model's snapshot replaces the tenant's older one.
        snapshots.Save("shop", "v2", cosine: false, Dim, epoch: "feed-1", catalogueVersion: 4, ids, vectors, ann: null, changed);
        Assert.Equal(["v2"], Directory.GetDirectories(Path.Combine(snapshots.Root, "shop")).Select(Path.GetFileName));

        // Cut short (a disk that filled up): ignored, not thrown.
        var file = Path.Combine(snapshots.Root, "shop", "v2", "vectors.bin");
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..^20]);
        Assert.Null(snapshots.TryLoad("shop", "v2", cosine: false, Dim, "feed-1"));
    }
}
