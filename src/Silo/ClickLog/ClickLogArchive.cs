namespace SessionRec.Silo.ClickLog;

using Microsoft.Extensions.Options;
using Parquet.Serialization;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Silo.Hosting;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// Expired click-log records as Parquet files (the export schema, <see cref="ClickLogRow"/>), one file per
/// retention batch of one partition: <c>&lt;archive&gt;/&lt;tenant&gt;/&lt;first sequence&gt;-&lt;last sequence&gt;.parquet</c> for partition 0
/// (every log of one partition), <c>p&lt;partition&gt;-&lt;first&gt;-&lt;last&gt;.parquet</c> for the others. The store keeps, per user, the
/// names of the files holding the user's records, so an erasure rewrites those files only.
/// </summary>
public sealed class ClickLogArchive(IConnectionMultiplexer redis, IOptions<ClickLogOptions> options, IOptions<StorageOptions> storage)
{
    private readonly string _root = options.Value.ArchivePath ?? Path.Combine(storage.Value.DataPath, "archive");

    public string Folder(string tenant) => Path.Combine(_root, tenant);

    /// <summary>Writes the records to a new file (flushed to disk before it is named), then indexes its users; returns its path.</summary>
    public async Task<string> WriteAsync(string tenant, IReadOnlyList<ClickLogRecord> records, CancellationToken cancellationToken = default)
    {
        var folder = Folder(tenant);
        Directory.CreateDirectory(folder);
        var partition = records[0].Partition == 0 ? string.Empty : $"p{records[0].Partition}-";
        var name = $"{partition}{records[0].Sequence:D12}-{records[^1].Sequence:D12}.parquet";
        await WriteRowsAsync(Path.Combine(folder, name), [.. records.Select(ClickLogRow.From)], cancellationToken);
        var batch = redis.GetDatabase().CreateBatch();
        var writes = records.Select(r => r.Event.UserId).Distinct(StringComparer.Ordinal)
            .Select(user => batch.SetAddAsync(RedisKeys.ArchiveUserIndex(tenant, user), name)).ToList();
        batch.Execute();
        await Task.WhenAll(writes).WaitAsync(cancellationToken);
        return Path.Combine(folder, name);
    }

    public static async Task<IList<ClickLogRow>> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = File.OpenRead(path);
        return (await ParquetSerializer.DeserializeAsync<ClickLogRow>(file, cancellationToken: cancellationToken)).Data;
    }

    /// <summary>
    /// Rewrites every file that holds records of the user without them (a file left empty is deleted), then reads
    /// them back; returns how many records were removed. Throws <see cref="ErasureIncompleteException"/> rather
    /// than return while a file still holds the user.
    /// </summary>
    public async Task<int> EraseUserAsync(string tenant, string userId, CancellationToken cancellationToken = default)
    {
        var index = RedisKeys.ArchiveUserIndex(tenant, userId);
        var names = await redis.GetDatabase().SetMembersAsync(index).WaitAsync(cancellationToken);
        var removed = 0;
        foreach (var name in names.Select(n => n.ToString()))
        {
            var path = Path.Combine(Folder(tenant), Path.GetFileName(name));
            if (!File.Exists(path))
            {
                continue;
            }

            var rows = await ReadAsync(path, cancellationToken);
            var kept = rows.Where(r => !string.Equals(r.UserId, userId, StringComparison.Ordinal)).ToList();
            removed += rows.Count - kept.Count;
            if (kept.Count == 0)
            {
                File.Delete(path);
            }
            else
            {
                await WriteRowsAsync(path, kept, cancellationToken);
            }

            if (File.Exists(path) && (await ReadAsync(path, cancellationToken)).Any(r => string.Equals(r.UserId, userId, StringComparison.Ordinal)))
            {
                throw new ErasureIncompleteException($"The archive file {name} still holds records of the user.");
            }
        }

        await redis.GetDatabase().KeyDeleteAsync(index).WaitAsync(cancellationToken);
        return removed;
    }

    /// <summary>Whether any archive file is still indexed under the user (erasure's proof, with the read-back above).</summary>
    public async Task<bool> HoldsUserAsync(string tenant, string userId) =>
        await redis.GetDatabase().KeyExistsAsync(RedisKeys.ArchiveUserIndex(tenant, userId));

    // Written beside its final name, flushed, then renamed over it: a crash leaves the old file or the new one, whole.
    private static async Task WriteRowsAsync(string path, IList<ClickLogRow> rows, CancellationToken cancellationToken)
    {
        var temporary = path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await ParquetSerializer.SerializeAsync(rows, file, cancellationToken: cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
