namespace SessionRec.Silo.Replicas;

using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Models.Serving;
using SessionRec.Silo.Hosting;

/// <summary>
/// A tenant's item vectors under one model version, as a silo last saved them: the ids, the vectors, the catalogue
/// version they reflect, and the approximate index with the rows it no longer describes.
/// </summary>
public sealed record ItemVectorSnapshot(long CatalogueVersion, ItemVectorIndex Index);

/// <summary>
/// Item vectors and their approximate index on this silo's disk (&lt;Storage:DataPath&gt;/snapshots/&lt;tenant&gt;/
/// &lt;model version&gt;), so a restarted silo loads them instead of encoding the catalogue again (minutes at a million
/// items, and a quarter of an hour more for the approximate index). Written to a temporary folder and moved into
/// place whole, so a reader sees the old snapshot or the new one; only the newest snapshot of the newest model
/// version is kept per tenant. A snapshot names the catalogue's change feed (<see cref="Catalogue.RedisCatalogueStore.EpochAsync"/>)
/// and version it reflects: a restart encodes only the items changed since, and a snapshot of another feed is ignored. Disk: (4·dim + id length) bytes per item, plus the approximate index: the graph's ~(4·(dim + 1)
/// + 128) bytes per item, or the inverted file's 4 bytes per item and its centroids. A snapshot that cannot be read is ignored (and the catalogue encoded).
/// </summary>
public sealed partial class ItemVectorSnapshots(IOptions<StorageOptions> storage, ILogger<ItemVectorSnapshots> logger)
{
    private const string VectorsFile = "vectors.bin";
    private const string AnnFile = "ann.usearch";
    private const string InvertedFile = "ann.ivf";

    // 3: the approximate index's kind follows the rows it holds (2: always the graph).
    private const int Format = 3;

    /// <summary>The folder of every tenant's snapshots.</summary>
    public string Root { get; } = Path.GetFullPath(Path.Combine(storage.Value.DataPath, "snapshots"));

    /// <summary>
    /// Writes <paramref name="ids"/> and <paramref name="vectors"/> (as <see cref="ItemVectorIndex.Copy"/> gives them)
    /// and <paramref name="ann"/> with the rows it no longer describes, as the tenant's snapshot under the model.
    /// </summary>
    public void Save(string tenant, string modelVersion, bool cosine, int dim, string epoch, long catalogueVersion, string[] ids, float[] vectors, IApproximateIndex? ann, int[] changed)
    {
        var folder = Folder(tenant, modelVersion);
        var staging = $"{folder}.{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(staging);
        try
        {
            using (var stream = new FileStream(Path.Combine(staging, VectorsFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write(Format);
                writer.Write(modelVersion);
                writer.Write(cosine);
                writer.Write(dim);
                writer.Write(epoch);
                writer.Write(catalogueVersion);
                writer.Write(ids.Length);
                foreach (var id in ids)
                {
                    writer.Write(id);
                }

                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vectors.AsSpan()));
                writer.Write(ann?.Rows ?? 0);
                writer.Write(changed.Length);
                foreach (var row in changed)
                {
                    writer.Write(row);
                }

                writer.Write(ann is InvertedFileIndex);

                // The graph holds each distinct vector once: which row stands for which.
                foreach (var row in (ann as AnnIndex)?.Representatives() ?? [])
                {
                    writer.Write(row);
                }
            }

            switch (ann)
            {
                case AnnIndex graph:
                    graph.Save(Path.Combine(staging, AnnFile));
                    break;
                case InvertedFileIndex inverted:
                    inverted.Save(Path.Combine(staging, InvertedFile));
                    break;
            }

            // The old snapshot of this model goes first: a crash between the two moves leaves none, never a torn one.
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            Directory.Move(staging, folder);
            foreach (var other in Directory.EnumerateDirectories(Path.Combine(Root, tenant)).Where(d => !string.Equals(d, folder, StringComparison.Ordinal) && !d.EndsWith(".tmp", StringComparison.Ordinal)))
            {
                Directory.Delete(other, recursive: true);
            }

            LogSaved(logger, tenant, modelVersion, ids.Length, ann?.Rows ?? 0, catalogueVersion);
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }

    /// <summary>
    /// The tenant's snapshot under <paramref name="modelVersion"/>, or null when there is none, it cannot be read, or
    /// it was taken of another change feed than <paramref name="epoch"/> (its versions would mean other changes).
    /// </summary>
    public ItemVectorSnapshot? TryLoad(string tenant, string modelVersion, bool cosine, int dim, string epoch, int annExpansion = 256)
    {
        var folder = Folder(tenant, modelVersion);
        var path = Path.Combine(folder, VectorsFile);
        if (!File.Exists(path))
        {
            return null;
        }

        IApproximateIndex? ann = null;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var format = reader.ReadInt32();
            if (format is not (Format or 2) || reader.ReadString() != modelVersion || reader.ReadBoolean() != cosine || reader.ReadInt32() != dim || reader.ReadString() != epoch)
            {
                return null;
            }

            var catalogueVersion = reader.ReadInt64();
            var ids = new string[reader.ReadInt32()];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = reader.ReadString();
            }

            var vectors = new float[ids.Length * dim];
            reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vectors.AsSpan()));
            var annRows = reader.ReadInt32();
            var changed = new int[reader.ReadInt32()];
            for (var i = 0; i < changed.Length; i++)
            {
                changed[i] = reader.ReadInt32();
            }

            var inverted = format >= 3 && reader.ReadBoolean();
            var representatives = new int[inverted ? 0 : annRows];
            for (var i = 0; i < representatives.Length; i++)
            {
                representatives[i] = reader.ReadInt32();
            }

            var index = new ItemVectorIndex(modelVersion, dim, cosine);
            index.Set(ids, vectors);
            if (annRows > 0)
            {
                ann = inverted
                    ? InvertedFileIndex.Load(Path.Combine(folder, InvertedFile), index)
                    : AnnIndex.Load(Path.Combine(folder, AnnFile), representatives, dim, annExpansion);
                index.RestoreAnn(ann, changed);
            }

            return new ItemVectorSnapshot(catalogueVersion, index);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or Cloud.Unum.USearch.USearchException or ArgumentException)
        {
            ann?.Dispose();
            LogUnreadable(logger, e, path);
            return null;
        }
    }

    private string Folder(string tenant, string modelVersion) => Path.Combine(Root, tenant, modelVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: item vectors of model {Version} saved ({Items} items, approximate index of {AnnRows} rows, catalogue version {CatalogueVersion})")]
    private static partial void LogSaved(ILogger logger, string tenant, string version, int items, int annRows, long catalogueVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Item vector snapshot {Path} could not be read; the catalogue is encoded instead")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string path);
}
