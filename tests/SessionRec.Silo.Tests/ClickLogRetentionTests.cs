namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Hosting;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>
/// Retention keeps the store bounded without losing the log: records older than the retention are written to a
/// Parquet archive, then dropped from the store, and readers start after them; an erasure rewrites the archive
/// files that hold the user.
/// </summary>
public sealed class ClickLogRetentionTests : IAsyncLifetime
{
    private readonly string _archive = Path.Combine(Path.GetTempPath(), "sessionrec-archive-" + Guid.NewGuid().ToString("N"));
    private RedisServer _server = null!;
    private ConnectionMultiplexer _redis = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _server.DisposeAsync();
        if (Directory.Exists(_archive))
        {
            Directory.Delete(_archive, recursive: true);
        }
    }

    private (RedisClickLog Log, ClickLogArchive Archive, ClickLogRetention Retention) Parts()
    {
        var options = Options.Create(new ClickLogOptions { Retention = TimeSpan.FromDays(90), ArchivePath = _archive });
        var log = new RedisClickLog(_redis, new ServerPolicyBarrier(), options);
        var archive = new ClickLogArchive(_redis, options, Options.Create(new StorageOptions()));
        return (log, archive, new ClickLogRetention(log, archive, options, TimeProvider.System));
    }

    /// <summary>30 views received 100 days ago by u0..u2 (u2 only then), then 10 views received now by u0 and u1.</summary>
    private static async Task AppendAsync(RedisClickLog log, string tenant)
    {
        var old = DateTimeOffset.UtcNow.AddDays(-100);
        await log.AppendAsync(tenant, [.. Enumerable.Range(0, 30).Select(i => new UserEvent($"old-{i}", $"u{i % 3}", null, EventType.View, $"item-{i}", null, null, null, old.AddMinutes(i), old.AddMinutes(i)))]);
        var now = DateTimeOffset.UtcNow;
        await log.AppendAsync(tenant, [.. Enumerable.Range(0, 10).Select(i => new UserEvent($"new-{i}", $"u{i % 2}", null, EventType.View, $"item-{i}", null, null, null, now, now))]);
    }

    [Fact(Timeout = 60_000)]
    public async Task RecordsOlderThanTheRetentionAreArchivedToParquetAndThenDroppedFromTheStore()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..8];
        var (log, archive, retention) = Parts();
        await AppendAsync(log, tenant);

        Assert.Equal(30, await retention.RunAsync(tenant, 500_000));

        // The store holds only the records within the retention; a reader from the start begins after the dropped ones.
        Assert.Equal(31, await log.FirstSequenceAsync(tenant, 0));
        Assert.Equal(10, await _redis.GetDatabase().KeyExistsAsync([.. Enumerable.Range(1, 40).Select(s => RedisKeys.LogRecord(tenant, s))]));
        var left = await log.ReadAllAsync(tenant);
        Assert.Equal(Enumerable.Range(31, 10).Select(i => (long)i), left.Select(r => r.Sequence));
        Assert.Equal(5, await log.CountUserAsync(tenant, "u0"));
        Assert.Equal(0, await log.CountUserAsync(tenant, "u2"));

        // The archive holds the 30 dropped records, as the export writes them.
        var file = Assert.Single(Directory.GetFiles(archive.Folder(tenant)));
        Assert.EndsWith("000000000001-000000000030.parquet", file, StringComparison.Ordinal);
        var rows = await ClickLogArchive.ReadAsync(file);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), rows.Select(r => r.Sequence));
        Assert.Equal("old-7", rows[7].EventId);
        Assert.Equal("u1", rows[7].UserId);
        Assert.Equal("view", rows[7].Type);

        // Nothing is older now: the next pass has nothing to do, and appending goes on after the last sequence.
        Assert.Equal(0, await retention.RunAsync(tenant, 500_000));
        Assert.Equal(LogPosition.Of(40), await log.LastPositionAsync(tenant));
    }

    [Fact(Timeout = 60_000)]
    public async Task ErasingAUserRewritesTheArchiveFilesThatHoldThem()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..8];
        var (log, archive, retention) = Parts();
        await AppendAsync(log, tenant);
        await retention.RunAsync(tenant, 500_000);
        var file = Assert.Single(Directory.GetFiles(archive.Folder(tenant)));
        Assert.True(await archive.HoldsUserAsync(tenant, "u1"));

        Assert.Equal(10, await archive.EraseUserAsync(tenant, "u1"));

        var rows = await ClickLogArchive.ReadAsync(file);
        Assert.Equal(20, rows.Count);
        Assert.DoesNotContain(rows, r => r.UserId == "u1");
        Assert.Contains(rows, r => r.UserId == "u0");
        Assert.False(await archive.HoldsUserAsync(tenant, "u1"));
        Assert.Empty(Directory.GetFiles(archive.Folder(tenant), "*.tmp"));

        // A file left with no records is removed.
        await archive.EraseUserAsync(tenant, "u0");
        Assert.Equal(10, await archive.EraseUserAsync(tenant, "u2"));
        Assert.Empty(Directory.GetFiles(archive.Folder(tenant)));
    }
}
