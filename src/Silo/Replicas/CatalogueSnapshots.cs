namespace SessionRec.Silo.Replicas;

using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Silo.Hosting;

/// <summary>A tenant's catalogue as a silo last saved it: the items and the change feed's version they reflect.</summary>
public sealed record CatalogueSnapshot(long Version, IReadOnlyList<CatalogueItem> Items);

/// <summary>
/// The catalogue replica's items on this silo's disk (&lt;Storage:DataPath&gt;/snapshots/&lt;tenant&gt;/catalogue.bin), so a
/// restarted silo reads one file and applies the changes since, instead of reading every item from the store
/// (measured at a million items: most of a restart's first minute). Written to a temporary file and moved into
/// place, so a reader sees the old snapshot or the new one. Like the item vectors it names the catalogue's change
/// feed (<see cref="Catalogue.RedisCatalogueStore.EpochAsync"/>): a snapshot of another feed is ignored. Disk: about
/// the items' JSON size. A snapshot that cannot be read is ignored (and the store read instead).
/// </summary>
public sealed partial class CatalogueSnapshots(IOptions<StorageOptions> storage, ILogger<CatalogueSnapshots> logger)
{
    private const int Format = 1;
    private const string FileName = "catalogue.bin";

    private readonly string _root = Path.GetFullPath(Path.Combine(storage.Value.DataPath, "snapshots"));

    public void Save(string tenant, string epoch, long version, IReadOnlyCollection<CatalogueItem> items)
    {
        var folder = Path.Combine(_root, tenant);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var staging = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(staging, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write(Format);
                writer.Write(epoch);
                writer.Write(version);
                writer.Write(items.Count);
                foreach (var item in items)
                {
                    Write(writer, item);
                }
            }

            File.Move(staging, path, overwrite: true);
            LogSaved(logger, tenant, items.Count, version);
        }
        catch
        {
            File.Delete(staging);
            throw;
        }
    }

    /// <summary>The tenant's saved catalogue, or null when there is none, it cannot be read, or it is of another change feed.</summary>
    public CatalogueSnapshot? TryLoad(string tenant, string epoch)
    {
        var path = Path.Combine(_root, tenant, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadInt32() != Format || reader.ReadString() != epoch)
            {
                return null;
            }

            var version = reader.ReadInt64();
            var items = new CatalogueItem[reader.ReadInt32()];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = Read(reader);
            }

            return new CatalogueSnapshot(version, items);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            LogUnreadable(logger, e, path);
            return null;
        }
    }

    private static void Write(BinaryWriter writer, CatalogueItem item)
    {
        writer.Write(item.Id);
        writer.Write(item.Title);
        writer.Write(item.Brand is not null);
        if (item.Brand is not null)
        {
            writer.Write(item.Brand);
        }

        writer.Write(item.Categories.Count);
        foreach (var category in item.Categories)
        {
            writer.Write(category);
        }

        writer.Write(item.Attributes.Count);
        foreach (var (name, value) in item.Attributes)
        {
            writer.Write(name);
            writer.Write(value);
        }

        writer.Write(item.Price.HasValue);
        if (item.Price is { } price)
        {
            writer.Write(price);
        }

        writer.Write(item.Available);
        writer.Write(item.UpdatedAt.UtcTicks);
    }

    private static CatalogueItem Read(BinaryReader reader)
    {
        var id = reader.ReadString();
        var title = reader.ReadString();
        var brand = reader.ReadBoolean() ? reader.ReadString() : null;
        var categories = new string[reader.ReadInt32()];
        for (var i = 0; i < categories.Length; i++)
        {
            categories[i] = reader.ReadString();
        }

        var count = reader.ReadInt32();
        var attributes = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            attributes[reader.ReadString()] = reader.ReadString();
        }

        decimal? price = reader.ReadBoolean() ? reader.ReadDecimal() : null;
        var available = reader.ReadBoolean();
        var updated = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        return new CatalogueItem(id, title, brand, categories, attributes, price, available, updated);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: catalogue saved on this silo ({Items} items, catalogue version {Version})")]
    private static partial void LogSaved(ILogger logger, string tenant, int items, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catalogue snapshot {Path} could not be read; the store is read instead")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string path);
}
