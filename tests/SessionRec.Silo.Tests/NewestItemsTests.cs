namespace SessionRec.Silo.Tests;

using System.Collections.Concurrent;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Silo.Replicas;

public sealed class NewestItemsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CatalogueItem Item(string id, int minute, bool available = true) =>
        new(id, id, null, [], new Dictionary<string, string>(), null, available, T0.AddMinutes(minute));

    /// <summary>What a scan of the whole catalogue lists: the newest available items, ties to the higher id.</summary>
    private static List<string> Scan(IEnumerable<CatalogueItem> items, int capacity) =>
        [.. items.Where(i => i.Available).OrderByDescending(i => i.UpdatedAt).ThenByDescending(i => i.Id, StringComparer.Ordinal).Take(capacity).Select(i => i.Id)];

    [Fact]
    public void The_list_kept_through_changes_is_what_a_scan_of_the_catalogue_lists()
    {
        const int Capacity = 6;
        var random = new Random(5);
        var catalogue = new ConcurrentDictionary<string, CatalogueItem>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            catalogue[$"i{i:D2}"] = Item($"i{i:D2}", random.Next(30), random.Next(5) > 0);
        }

        var newest = NewestItems.Of(catalogue, Capacity);
        Assert.Equal(Scan(catalogue.Values, Capacity), newest.Select(i => i.Id));

        var rebuilds = 0;
        var kept = 0;
        for (var step = 0; step < 2_000; step++)
        {
            // A batch of changes as a replica applies them: writes (new, newer, older or unavailable) and deletions.
            var present = new List<CatalogueItem>();
            var removed = new List<string>();
            foreach (var id in Enumerable.Range(0, random.Next(1, 4)).Select(_ => $"i{random.Next(30):D2}").Distinct())
            {
                if (random.Next(4) == 0)
                {
                    catalogue.TryRemove(id, out _);
                    removed.Add(id);
                }
                else
                {
                    var item = Item(id, random.Next(step / 10, (step / 10) + 40), random.Next(4) > 0);
                    catalogue[id] = item;
                    present.Add(item);
                }
            }

            var after = NewestItems.After(newest, present, removed, Capacity);
            if (after is null)
            {
                rebuilds++;
                after = NewestItems.Of(catalogue, Capacity);
            }
            else
            {
                kept++;
            }

            newest = after;
            Assert.Equal(Scan(catalogue.Values, Capacity), newest.Select(i => i.Id));
        }

        // Both ways were taken (the rebuild is the exception, the update the rule).
        Assert.InRange(rebuilds, 1, kept);
    }

    [Fact]
    public void An_entry_leaving_a_full_list_is_replaced_from_the_catalogue_and_a_newer_write_needs_no_scan()
    {
        var catalogue = new ConcurrentDictionary<string, CatalogueItem>(StringComparer.Ordinal);
        foreach (var (id, minute) in new[] { ("a", 1), ("b", 2), ("c", 3), ("d", 4) })
        {
            catalogue[id] = Item(id, minute);
        }

        var newest = NewestItems.Of(catalogue, 3);
        Assert.Equal(["d", "c", "b"], newest.Select(i => i.Id));

        // A newer item pushes the oldest out: no scan needed.
        var e = catalogue["e"] = Item("e", 5);
        newest = NewestItems.After(newest, [e], [], 3)!;
        Assert.Equal(["e", "d", "c"], newest.Select(i => i.Id));

        // "d" becomes unavailable: "b", outside the list, belongs in it again, which only a scan finds.
        var d = catalogue["d"] = catalogue["d"] with { Available = false };
        Assert.Null(NewestItems.After(newest, [d], [], 3));
        Assert.Equal(["e", "c", "b"], NewestItems.Of(catalogue, 3).Select(i => i.Id));
    }
}
