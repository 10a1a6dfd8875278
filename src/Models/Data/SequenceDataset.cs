namespace SessionRec.Models.Data;

using System.Security.Cryptography;
using System.Text;

/// <summary>
/// A data set as models see it: items numbered 0..N-1 (metadata in the same order) and one time-ordered item
/// sequence per user. Items without interactions stay in the catalogue: item-ID-free models can still score them.
/// </summary>
public sealed class SequenceDataset
{
    public SequenceDataset(string name, IReadOnlyList<ImportItem> items, IReadOnlyList<string> users, IReadOnlyList<int[]> sequences)
    {
        Name = name;
        Items = items;
        Users = users;
        Sequences = sequences;
    }

    public string Name { get; }

    public IReadOnlyList<ImportItem> Items { get; }

    public IReadOnlyList<string> Users { get; }

    public IReadOnlyList<int[]> Sequences { get; }

    public int ItemCount => Items.Count;

    /// <summary>
    /// Orders each user's interactions by time (file order where times tie or are absent) and keeps the first
    /// interaction with each item, as the published leave-one-out protocol does.
    /// </summary>
    public static SequenceDataset From(Dataset dataset)
    {
        var items = new List<ImportItem>(dataset.Items.Count);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in dataset.Items)
        {
            if (index.TryAdd(item.Id, items.Count))
            {
                items.Add(item);
            }
        }

        var byUser = new Dictionary<string, List<(double Time, int Order, int Item)>>(StringComparer.Ordinal);
        var order = 0;
        foreach (var interaction in dataset.Interactions)
        {
            if (!index.TryGetValue(interaction.ItemId, out var item))
            {
                // An interaction with an item the item file lacks: the item joins the catalogue without metadata.
                item = items.Count;
                index[interaction.ItemId] = item;
                items.Add(new ImportItem(interaction.ItemId, "", null, [], new Dictionary<string, string>(), null));
            }

            if (!byUser.TryGetValue(interaction.UserId, out var list))
            {
                byUser[interaction.UserId] = list = [];
            }

            list.Add((interaction.UnixTime ?? 0, order++, item));
        }

        var users = new List<string>(byUser.Count);
        var sequences = new List<int[]>(byUser.Count);
        foreach (var (user, list) in byUser)
        {
            list.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Order.CompareTo(b.Order));
            var seen = new HashSet<int>();
            users.Add(user);
            sequences.Add([.. list.Where(e => seen.Add(e.Item)).Select(e => e.Item)]);
        }

        return new SequenceDataset(dataset.Name, items, users, sequences);
    }

    /// <summary>A stable fingerprint of the interactions and item ids, recorded in model manifests.</summary>
    public string Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var item in Items)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(item.Id));
            hash.AppendData([0]);
        }

        Span<byte> buffer = stackalloc byte[4];
        foreach (var sequence in Sequences)
        {
            foreach (var item in sequence)
            {
                BitConverter.TryWriteBytes(buffer, item);
                hash.AppendData(buffer);
            }

            BitConverter.TryWriteBytes(buffer, -1);
            hash.AppendData(buffer);
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
