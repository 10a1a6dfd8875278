namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Snapshots;
using SessionRec.Silo.Statistics;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// `sessionrec log repartition` on the embedded default's store: a log of one partition (every log written before
/// partitions) split into four keeps every record under its sequence, its dedup ids and each user's order, moves a
/// snapshot's position to the same sequence in every partition, leaves no key of the old log, and can be run again.
/// </summary>
public sealed class LogRepartitioningTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private EmbeddedStore _store = null!;

    public async ValueTask InitializeAsync() => _store = await EmbeddedStore.StartAsync("sessionrec-repartition-");

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    // A new log instance each time: a process that starts after the repartitioning (counts are cached per process).
    private RedisClickLog NewLog(int partitions = 0) =>
        new(_store.Redis, _store.Barrier, Options.Create(new ClickLogOptions { Partitions = partitions }));

    private static UserEvent View(string id, string user, int minute) =>
        new(id, user, null, EventType.View, $"i{minute}", null, null, null, Now.AddMinutes(minute - 600), Now.AddMinutes(minute - 600));

    [Fact(Timeout = 60_000)]
    public async Task ALogOfOnePartitionIsSplitByUserKeepingEverySequenceIdAndPosition()
    {
        const string tenant = "legacy";
        var before = NewLog();
        var events = Enumerable.Range(0, 300).Select(i => View($"e{i}", $"user{i % 23}", i)).ToList();
        foreach (var batch in events.Chunk(50))
        {
            await before.AppendAsync(tenant, batch);
        }

        await before.EraseUserAsync(tenant, "user5");
        var old = await before.ReadAllAsync(tenant);
        Assert.Equal(1, await before.PartitionsAsync(tenant));

        // The statistics snapshot was published at sequence 150 (the builder had read that far).
        var snapshots = new StatisticsSnapshotStore(new SnapshotStore(_store.Redis));
        var statistics = new Models.Baseline.InteractionStatistics(TimeSpan.FromDays(7));
        await snapshots.PublishAsync(tenant, LogPosition.Of(150), statistics, new LiveSessions(TimeSpan.FromMinutes(30), 5, 100));

        var result = await new LogRepartitioning(_store.Redis, _store.Barrier, new ClickLogOptions()).RunAsync(tenant, 4);

        Assert.Equal(new RepartitionResult(old.Count, 4, AlreadyDone: false), result);
        var after = NewLog();
        Assert.Equal(4, await after.PartitionsAsync(tenant));

        // Every record, under its sequence, in its user's partition; each user's records in their order.
        var moved = await after.ReadAllAsync(tenant);
        Assert.Equal(old.Select(r => (r.Sequence, r.Event.EventId)).Order(), moved.Select(r => (r.Sequence, r.Event.EventId)).Order());
        Assert.All(moved, r => Assert.Equal(LogPartitioning.Of(r.Event.UserId, 4), r.Partition));
        foreach (var user in old.Select(r => r.Event.UserId).Distinct())
        {
            Assert.Equal(old.Where(r => r.Event.UserId == user).Select(r => r.Sequence), (await after.ReadUserAsync(tenant, user, 0, 1_000)).Select(r => r.Sequence));
        }

        Assert.Equal(0, await after.CountUserAsync(tenant, "user5"));

        // Ids are remembered where their users' retries now land; a new record comes after every old one.
        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 8), Assert.Single(await after.AppendAsync(tenant, [View("e7", "user7", 7)])));
        var fresh = Assert.Single(await after.AppendAsync(tenant, [View("new", "user1", 301)]));
        Assert.Equal(new AppendResult(AppendOutcome.Appended, 301), fresh);

        // The snapshot covers sequence 150 in every partition: exactly the records it had read, wherever they went.
        var (position, _) = (await snapshots.ReadSnapshotAsync(tenant))!.Value;
        Assert.Equal(LogPosition.Of(150, 150, 150, 150), position);
        Assert.Equal(600, await snapshots.PositionAsync(tenant));
        var unread = await after.ReadAllAsync(tenant, position);
        Assert.Equal(old.Where(r => r.Sequence > 150).Select(r => r.Event.EventId).Append("new").Order(), unread.Select(r => r.Event.EventId).Order());

        // Nothing of the old log is left; a second run has nothing to do.
        var server = _store.Redis.GetServer(_store.Redis.GetEndPoints()[0]);
        Assert.Equal([RedisKeys.LogPartitions(tenant).ToString()], server.Keys(pattern: $"sr:{{{tenant}}}:log*").Select(k => k.ToString()));
        Assert.True((await new LogRepartitioning(_store.Redis, _store.Barrier, new ClickLogOptions()).RunAsync(tenant, 4)).AlreadyDone);
        await Assert.ThrowsAsync<InvalidOperationException>(() => new LogRepartitioning(_store.Redis, _store.Barrier, new ClickLogOptions()).RunAsync(tenant, 8));
    }

    [Fact(Timeout = 60_000)]
    public async Task ARecordThatNoLongerParsesIsCountedNotMovedAndTheOthersAre()
    {
        const string tenant = "cut";
        await NewLog().AppendAsync(tenant, [View("e1", "u1", 1), View("e2", "u2", 2), View("e3", "u3", 3)]);

        // As a store that lost a record's end leaves it: the same length, the second half zeros.
        var db = _store.Redis.GetDatabase();
        var stored = (byte[])(await db.StringGetAsync(RedisKeys.LogRecord(tenant, 2)))!;
        Array.Clear(stored, stored.Length / 2, stored.Length - (stored.Length / 2));
        await db.StringSetAsync(RedisKeys.LogRecord(tenant, 2), stored);

        var result = await new LogRepartitioning(_store.Redis, _store.Barrier, new ClickLogOptions()).RunAsync(tenant, 4);

        Assert.Equal(new RepartitionResult(2, 4, AlreadyDone: false, Unreadable: 1), result);
        Assert.Equal(["e1", "e3"], (await NewLog().ReadAllAsync(tenant)).Select(r => r.Event.EventId).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task AnExistingLogKeepsOnePartitionWhateverTheSettingUntilRepartitioned()
    {
        await NewLog().AppendAsync("old", [View("e1", "u", 1)]);

        var configured = NewLog(partitions: 8);
        await configured.AppendAsync("old", [View("e2", "u", 2)]);
        await configured.AppendAsync("new", [View("e1", "u", 1)]);

        Assert.Equal(1, await configured.PartitionsAsync("old"));
        Assert.Equal(8, await configured.PartitionsAsync("new"));
    }
}
