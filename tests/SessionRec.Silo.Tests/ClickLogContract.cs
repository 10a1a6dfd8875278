namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Time.Testing;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The click-log contract, run against every store the service supports (a real redis-server, the embedded default's
/// in-process Garnet, a Redis Cluster) and partition counts (one, as a single server has by default; more, as a
/// cluster has). Sequence numbers are per partition: <see cref="Sequences"/> says which each record should get.
/// </summary>
public abstract class ClickLogContract
{
    protected abstract IClickLog Log { get; }

    /// <summary>The store under <see cref="Log"/> (to look at the dedup index's keys).</summary>
    protected abstract IDatabase Store { get; }

    /// <summary>A log on the same store whose clock and dedup window the test sets.</summary>
    protected abstract IClickLog LogAt(TimeProvider time, TimeSpan dedupWindow);

    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    protected static UserEvent View(string id, string user, string item, int minute = 0) =>
        new(id, user, null, EventType.View, item, null, null, null, Now.AddMinutes(minute), Now);

    private static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The sequence numbers records of these users should get, appended in this order to a new log of the tenant.</summary>
    private async Task<Func<string, long>> Sequences(string tenant)
    {
        var partitions = await Log.PartitionsAsync(tenant);
        var counters = new long[partitions];
        return user => ++counters[LogPartitioning.Of(user, partitions)];
    }

    /// <summary>The hash tag of the user's partition of the tenant's log.</summary>
    private async Task<string> TagOf(string tenant, string user)
    {
        var partitions = await Log.PartitionsAsync(tenant);
        return RedisKeys.LogTag(tenant, LogPartitioning.Of(user, partitions), partitions);
    }

    [Fact]
    public async Task AppendedEventsAreReadBackInOrderWithSequences()
    {
        var tenant = NewTenant();
        var outcomes = (await Log.AppendAsync(tenant, [View("e1", "u", "a"), View("e2", "u", "b", 1)])).Select(r => r.Outcome);

        Assert.Equal([AppendOutcome.Appended, AppendOutcome.Appended], outcomes);
        var records = await Log.ReadAllAsync(tenant);
        Assert.Equal([1L, 2L], records.Select(r => r.Sequence));
        Assert.Equal(View("e2", "u", "b", 1), records[1].Event with { Shown = null });
        Assert.Equal(2, (await Log.LastPositionAsync(tenant)).Total);
    }

    [Fact]
    public async Task ServedRecordsAreAppendedAfterEventsInOrderPerUserAndLeaveNoIdInTheDedupIndex()
    {
        var tenant = NewTenant();
        await Log.AppendAsync(tenant, [View("e1", "u", "a")]);
        var next = await Sequences(tenant);
        next("u");

        var sequences = await Log.AppendServedAsync(tenant, [View("imp-1", "u", "a"), View("imp-2", "v", "b"), View("imp-3", "u", "c")]);

        long[] expected = [next("u"), next("v"), next("u")];
        Assert.Equal(expected, sequences);
        Assert.Equal(["e1", "imp-1", "imp-2", "imp-3"], (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId).Order());
        Assert.Equal(["e1", "imp-1", "imp-3"], (await Log.ReadUserAsync(tenant, "u", 0, 100)).Select(r => r.Event.EventId));
        Assert.Equal(4, (await Log.LastPositionAsync(tenant)).Total);

        // Clients are refused a served id (EventRules, ServedIds): no id key is kept for one, while an event's is.
        foreach (var (id, user) in new[] { ("imp-1", "u"), ("imp-2", "v"), ("imp-3", "u") })
        {
            Assert.False(await Store.KeyExistsAsync(RedisKeys.LogEventId(await TagOf(tenant, user), id)), id);
        }

        Assert.True(await Store.KeyExistsAsync(RedisKeys.LogEventId(await TagOf(tenant, "u"), "e1")));
        Assert.Empty(await Log.AppendServedAsync(tenant, []));
    }

    [Fact]
    public async Task AnIdIsRememberedForTheDedupWindowAndNoLongerAndEveryIdExpires()
    {
        var tenant = NewTenant();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 23, 0, 0, TimeSpan.Zero));
        var log = LogAt(time, TimeSpan.FromDays(2));
        await log.AppendAsync(tenant, [View("e1", "u", "a")]);

        // The id's key expires in the store a day after the window (the store's clock is not the fake one).
        var ttl = await Store.KeyTimeToLiveAsync(RedisKeys.LogEventId(await TagOf(tenant, "u"), "e1"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(3));

        // Two days less an hour later: still a duplicate; and so on the last minute of the window and its day.
        time.Advance(TimeSpan.FromDays(2) - TimeSpan.FromHours(1));
        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 1), Assert.Single(await log.AppendAsync(tenant, [View("e1", "u", "a")])));
        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(59));
        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 1), Assert.Single(await log.AppendAsync(tenant, [View("e1", "u", "a")])));

        // Past it the id is forgotten (the API refuses an event that old, so no retry of it gets here).
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(AppendOutcome.Appended, Assert.Single(await log.AppendAsync(tenant, [View("e1", "u", "a")])).Outcome);
    }

    [Fact]
    public async Task IdsOfTheDayHashesOfBeforeAreStillRecognisedAndErased()
    {
        // A release before 2026-12-03 kept the ids in one hash per day of arrival.
        var tenant = NewTenant();
        var tag = await TagOf(tenant, "u");
        var today = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 86_400;
        await Log.AppendAsync(tenant, [View("first", "u", "a")]);
        await Store.HashSetAsync(RedisKeys.LogEventIds(tag, today - 1), "yesterday", 1);

        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 1), Assert.Single(await Log.AppendAsync(tenant, [View("yesterday", "u", "a")])));
        Assert.Equal(AppendOutcome.Appended, Assert.Single(await Log.AppendAsync(tenant, [View("new", "u", "a")])).Outcome);
        Assert.False(await Store.HashExistsAsync(RedisKeys.LogEventIds(tag, today), "new"));
        Assert.True(await Store.KeyExistsAsync(RedisKeys.LogEventId(tag, "new")));

        // The first record's id as a release before would have left it: erasure removes it from the old hash too.
        await Store.HashSetAsync(RedisKeys.LogEventIds(tag, today - 1), "first", 1);
        await Log.EraseUserAsync(tenant, "u");
        Assert.False(await Store.HashExistsAsync(RedisKeys.LogEventIds(tag, today - 1), "first"));
        Assert.False(await Store.KeyExistsAsync(RedisKeys.LogEventId(tag, "first")));
        Assert.False(await Store.KeyExistsAsync(RedisKeys.LogEventId(tag, "new")));
    }

    [Fact]
    public async Task IdsOfTheUnboundedIndexOfBeforeAreRecognisedThenMoveToIdKeys()
    {
        // Only a log written before partitions can have that index: its counter is there, so it has one partition.
        var tenant = NewTenant();
        await Store.StringSetAsync(RedisKeys.LogSequence(tenant), 7);
        await Store.HashSetAsync(RedisKeys.LogEventIds(tenant), "old", 7);
        Assert.Null(await Store.KeyTimeToLiveAsync(RedisKeys.LogEventIds(tenant)));

        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 7), Assert.Single(await Log.AppendAsync(tenant, [View("old", "u", "a")])));
        Assert.Equal(AppendOutcome.Appended, Assert.Single(await Log.AppendAsync(tenant, [View("new", "u", "a")])).Outcome);

        // The first append moved its ids to id keys (in the background): remembered for the window and a day, as the
        // first append after the upgrade gave the hash.
        await UntilGoneAsync(RedisKeys.LogEventIds(tenant));
        var ttl = await Store.KeyTimeToLiveAsync(RedisKeys.LogEventId(tenant, "old"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromDays(7), TimeSpan.FromDays(8) + TimeSpan.FromMinutes(1));
        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 7), Assert.Single(await Log.AppendAsync(tenant, [View("old", "u", "a")])));
    }

    [Fact(Timeout = 120_000)]
    public async Task IdsOfTheDayHashesOfBeforeMoveToIdKeysAtTheFirstAppendAndTheHashesGo()
    {
        var tenant = NewTenant();
        var tag = await TagOf(tenant, "u");
        var today = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 86_400;
        var day = RedisKeys.LogEventIds(tag, today - 2);
        const int Ids = 2_500; // more than two pages of the move
        await Store.HashSetAsync(day, [.. Enumerable.Range(1, Ids).Select(i => new HashEntry($"old-{i}", i))]);
        await Store.KeyExpireAsync(day, TimeSpan.FromDays(6));
        var newer = $"{Ids + 1}:{DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 86_400}";
        await Store.StringSetAsync(RedisKeys.LogEventId(tag, "old-9"), newer, TimeSpan.FromDays(1)); // an id key wins over the hash

        Assert.Equal(AppendOutcome.Appended, Assert.Single(await Log.AppendAsync(tenant, [View("new", "u", "a")])).Outcome);
        await UntilGoneAsync(day);

        var values = await Store.StringGetAsync([.. Enumerable.Range(1, Ids).Select(i => RedisKeys.LogEventId(tag, $"old-{i}"))]);
        Assert.All(Enumerable.Range(1, Ids).Where(i => i != 9), i => Assert.StartsWith($"{i}:", (string?)values[i - 1]));
        Assert.Equal(newer, (string?)values[8]);
        var ttl = await Store.KeyTimeToLiveAsync(RedisKeys.LogEventId(tag, "old-1"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromDays(6) - TimeSpan.FromMinutes(2), TimeSpan.FromDays(6));
        Assert.Equal(new AppendResult(AppendOutcome.Duplicate, 1234), Assert.Single(await Log.AppendAsync(tenant, [View("old-1234", "u", "a")])));
    }

    /// <summary>Waits, up to 60 s, until the key is gone.</summary>
    private async Task UntilGoneAsync(RedisKey key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await Store.KeyExistsAsync(key))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{key} is still there after 60 s");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task RecordsOfTheHashOfBeforeAreReadDroppedAndErasedWithTheRecordKeysAfterThem()
    {
        // A log of one partition as a release before record keys left it: its records in one hash, sequence → record.
        var tenant = NewTenant();
        await Store.StringSetAsync(RedisKeys.LogSequence(tenant), 2);
        HashEntry[] old = [new(1, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(View("e1", "u", "a"), ServiceJson.Options)),
            new(2, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(View("e2", "v", "b"), ServiceJson.Options))];
        await Store.HashSetAsync(RedisKeys.Log(tenant), old);
        await Store.SortedSetAddAsync(RedisKeys.LogUserIndex(tenant, "u"), 1, 1);
        await Store.SortedSetAddAsync(RedisKeys.LogUserIndex(tenant, "v"), 2, 2);

        await Log.AppendAsync(tenant, [View("e3", "u", "c"), View("e4", "v", "d")]);

        Assert.Equal(1, await Log.PartitionsAsync(tenant));
        Assert.True(await Store.KeyExistsAsync(RedisKeys.LogRecord(tenant, 3)), "a new record is a key of its own");
        Assert.Equal(2, await Store.HashLengthAsync(RedisKeys.Log(tenant)));
        Assert.Equal(["e1", "e2", "e3", "e4"], (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId));
        Assert.Equal([1L, 3L], (await Log.ReadUserAsync(tenant, "u", 0, 10)).Select(r => r.Sequence));

        // Retention drops the old records from the hash; erasure removes a user's records wherever they are.
        var all = await Log.ReadAllAsync(tenant);
        await Log.DropOldestAsync(tenant, 0, [.. all.Take(2)], 2);
        Assert.False(await Store.KeyExistsAsync(RedisKeys.Log(tenant)));
        Assert.Equal(["e3", "e4"], (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId));
        await Store.HashSetAsync(RedisKeys.Log(tenant), [old[1]]);
        await Store.SortedSetAddAsync(RedisKeys.LogUserIndex(tenant, "v"), 2, 2);

        Assert.Equal(2, await Log.EraseUserAsync(tenant, "v"));
        Assert.False(await Store.KeyExistsAsync(RedisKeys.Log(tenant)));
        Assert.False(await Store.KeyExistsAsync(RedisKeys.LogRecord(tenant, 4)));
        Assert.Equal(["e3"], (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId));
    }

    [Fact]
    public async Task ARetriedEventIdIsNeverLoggedTwice()
    {
        var tenant = NewTenant();
        await Log.AppendAsync(tenant, [View("e1", "u", "a")]);

        var retry = await Log.AppendAsync(tenant, [View("e1", "u", "a"), View("e2", "u", "b"), View("e2", "u", "b")]);

        Assert.Equal([new AppendResult(AppendOutcome.Duplicate, 1), new AppendResult(AppendOutcome.Appended, 2), new AppendResult(AppendOutcome.Duplicate, 2)], retry);
        var records = await Log.ReadAllAsync(tenant);
        Assert.Equal(["e1", "e2"], records.Select(r => r.Event.EventId));
    }

    [Fact]
    public async Task ABatchOfNewRepeatedAndEarlierIdsIsLoggedAsIfItsEventsCameOneAtATime()
    {
        var tenant = NewTenant();
        var next = await Sequences(tenant);
        var random = new Random(7);
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        var order = new List<string>();
        var byUser = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        for (var batch = 0; batch < 3; batch++)
        {
            // Ids drawn with repeats from a pool that earlier batches partly logged: some new, some repeated within
            // the batch, some logged before. A repeat is a retry, so it carries its first attempt's user.
            var events = Enumerable.Range(0, 300).Select(i => random.Next(0, 150 * (batch + 1))).Select((id, i) => View($"e{id}", $"u{id % 7}", $"i{i}")).ToList();
            var want = new List<AppendResult>();
            foreach (var e in events)
            {
                if (expected.TryGetValue(e.EventId, out var earlier))
                {
                    want.Add(new AppendResult(AppendOutcome.Duplicate, earlier));
                    continue;
                }

                var sequence = expected[e.EventId] = next(e.UserId);
                order.Add(e.EventId);
                want.Add(new AppendResult(AppendOutcome.Appended, sequence));
                (byUser.TryGetValue(e.UserId, out var list) ? list : byUser[e.UserId] = []).Add(sequence);
            }

            Assert.Equal(want, await Log.AppendAsync(tenant, events));
        }

        Assert.Equal(order.Count, (await Log.LastPositionAsync(tenant)).Total);
        Assert.Equal(order.Order(StringComparer.Ordinal), (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId).Order(StringComparer.Ordinal));
        foreach (var (user, sequences) in byUser)
        {
            Assert.Equal(sequences, (await Log.ReadUserAsync(tenant, user, 0, 1_000)).Select(r => r.Sequence));
        }
    }

    [Fact]
    public async Task TenantsDoNotShareLogsOrEventIds()
    {
        var a = NewTenant();
        var b = NewTenant();
        await Log.AppendAsync(a, [View("same", "u", "x")]);

        var inB = (await Log.AppendAsync(b, [View("same", "u", "y")])).Select(r => r.Outcome);

        Assert.Equal([AppendOutcome.Appended], inB);
        Assert.Equal("x", Assert.Single(await Log.ReadAllAsync(a)).Event.ItemId);
        Assert.Equal("y", Assert.Single(await Log.ReadAllAsync(b)).Event.ItemId);
    }

    [Fact]
    public async Task ErasingAUserRemovesTheirRecordsAndEventIdsOnly()
    {
        var tenant = NewTenant();
        await Log.AppendAsync(tenant, [View("e1", "gone", "a"), View("e2", "kept", "b"), View("e3", "gone", "c")]);

        var removed = await Log.EraseUserAsync(tenant, "gone");

        Assert.Equal(2, removed);
        var left = await Log.ReadAllAsync(tenant);
        Assert.Equal(["e2"], left.Select(r => r.Event.EventId));
        // The erased ids are forgotten too: nothing about the user is left to find.
        Assert.Equal(AppendOutcome.Appended, Assert.Single(await Log.AppendAsync(tenant, [View("e1", "gone", "a")])).Outcome);
    }

    [Fact(Timeout = 60_000)]
    public async Task ARecordThatNoLongerParsesIsSkippedByEveryReaderAndErasedWithItsUser()
    {
        var tenant = NewTenant();
        var next = await Sequences(tenant);
        await Log.AppendAsync(tenant, [View("e1", "u", "a"), View("e2", "u", "b"), View("e3", "v", "c"), View("e4", "u", "d")]);
        next("u");
        var cut = next("u");

        // As a store that lost a record's end leaves it: the same length, the second half zeros.
        var key = RedisKeys.LogRecord(await TagOf(tenant, "u"), cut);
        var stored = (byte[])(await Store.StringGetAsync(key))!;
        Array.Clear(stored, stored.Length / 2, stored.Length - (stored.Length / 2));
        await Store.StringSetAsync(key, stored);

        Assert.Equal(["e1", "e4"], (await Log.ReadUserAsync(tenant, "u", 0, 10)).Select(r => r.Event.EventId));
        Assert.Equal(["e1", "e3", "e4"], (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId).Order());

        // Erasure removes the unreadable record with the readable ones, and proves none is left.
        Assert.Equal(3, await Log.EraseUserAsync(tenant, "u"));
        Assert.False(await Store.KeyExistsAsync(key));
        Assert.Equal(0, await Log.CountUserAsync(tenant, "u"));
        Assert.Equal(["e3"], (await Log.ReadAllAsync(tenant)).Select(r => r.Event.EventId));
    }

    [Fact]
    public async Task ReadingSkipsErasedGapsAndHonoursTheLimit()
    {
        var tenant = NewTenant();
        var events = Enumerable.Range(0, 300).Select(i => View($"e{i}", i % 3 == 0 ? "gone" : "kept", $"i{i}", i)).ToList();
        await Log.AppendAsync(tenant, events);
        await Log.EraseUserAsync(tenant, "gone");

        // Pages of at most 150 from a position on, each non-empty while the log has more, until all 200 are read.
        var position = LogPosition.Start(await Log.PartitionsAsync(tenant));
        var read = new List<ClickLogRecord>();
        ClickLogPage page;
        do
        {
            page = await Log.ReadAsync(tenant, position, 150);
            Assert.InRange(page.Records.Count, 1, 150);
            read.AddRange(page.Records);
            position = position.After(page.Records);
        }
        while (page.More);

        Assert.Equal(events.Where(e => e.UserId == "kept").Select(e => e.EventId), read.Select(r => r.Event.EventId));
        Assert.Empty((await Log.ReadAsync(tenant, position, 150)).Records);
    }

    [Fact]
    public async Task OneUsersRecordsAreReadAfterAGivenSequence()
    {
        var tenant = NewTenant();
        var next = await Sequences(tenant);
        await Log.AppendAsync(tenant, [View("e1", "u", "a"), View("e2", "v", "b"), View("e3", "u", "c"), View("e4", "u", "d")]);
        var first = next("u");
        next("v");

        var after1 = await Log.ReadUserAsync(tenant, "u", first, 10);
        var limited = await Log.ReadUserAsync(tenant, "u", 0, 2);

        Assert.Equal([next("u"), next("u")], after1.Select(r => r.Sequence));
        Assert.Equal(["c", "d"], after1.Select(r => r.Event.ItemId));
        Assert.Equal(["e1", "e3"], limited.Select(r => r.Event.EventId));
        Assert.Empty(await Log.ReadUserAsync(tenant, "nobody", 0, 10));
    }

    [Fact]
    public async Task AUsersIndexSpansChunksAndRetentionAndErasureTrimItWhereTheyStop()
    {
        // Batches that start and end inside chunks and on their edges (a chunk holds UserIndex.Slots entries).
        var tenant = NewTenant();
        var partitions = await Log.PartitionsAsync(tenant);
        var partition = LogPartitioning.Of("u", partitions);
        var tag = await TagOf(tenant, "u");
        var id = 0;
        foreach (var size in new[] { 1, 63, 2, 70, 14 })
        {
            await Log.AppendAsync(tenant, [.. Enumerable.Range(0, size).Select(i => View($"e{id++}", "u", $"i{i}")), View($"e{id++}", "v", "x")]);
        }

        var mine = (await Log.ReadUserAsync(tenant, "u", 0, 1_000)).Select(r => r.Sequence).ToList();
        Assert.Equal(150, mine.Count);
        Assert.Equal(mine.Order(), mine);
        Assert.Equal(mine.Skip(65).Take(10), (await Log.ReadUserAsync(tenant, "u", mine[64], 10)).Select(r => r.Sequence));
        Assert.Equal(mine.Skip(128), (await Log.ReadUserAsync(tenant, "u", mine[127], 1_000)).Select(r => r.Sequence));
        Assert.Equal(mine.Skip(128), (await Log.ReadUserAsync(tenant, "u", mine[128] - 1, 1_000)).Select(r => r.Sequence));
        Assert.Empty(await Log.ReadUserAsync(tenant, "u", mine[^1], 10));
        Assert.Equal(150, await Log.CountUserAsync(tenant, "u"));
        Assert.True(await Store.KeyExistsAsync(UserIndex.Chunk(tag, "u", 2)), "150 entries fill three chunks");

        // Retention drops the partition's oldest 100 records: the user's first entries, and the first chunk with them.
        var oldest = await Log.ReadPartitionAsync(tenant, partition, 1, 100);
        await Log.DropOldestAsync(tenant, partition, oldest, oldest[^1].Sequence);
        var kept = mine.Where(s => s > oldest[^1].Sequence).ToList();
        Assert.InRange(kept.Count, 50, 149);
        Assert.Equal(kept, (await Log.ReadUserAsync(tenant, "u", 0, 1_000)).Select(r => r.Sequence));
        Assert.Equal(kept.Count, await Log.CountUserAsync(tenant, "u"));
        Assert.False(await Store.KeyExistsAsync(UserIndex.Chunk(tag, "u", 0)), "a chunk retention emptied is deleted");

        // Erasure removes the rest and every key of the index; a new record starts a new index.
        Assert.Equal(kept.Count, await Log.EraseUserAsync(tenant, "u"));
        Assert.Equal(0, await Log.CountUserAsync(tenant, "u"));
        RedisKey[] index = [UserIndex.Count(tag, "u"), UserIndex.First(tag, "u"), .. Enumerable.Range(0, 4).Select(k => UserIndex.Chunk(tag, "u", k))];
        Assert.Equal(0, await Store.KeyExistsAsync(index));
        await Log.AppendAsync(tenant, [View("again", "u", "z")]);
        Assert.Equal(["again"], (await Log.ReadUserAsync(tenant, "u", 0, 10)).Select(r => r.Event.EventId));
        Assert.True((await Log.ReadUserAsync(tenant, "v", 0, 10)).Count > 0, "the other user keeps what retention left");
    }

    [Fact]
    public async Task ServerOwnedImpressionFieldsRoundTrip()
    {
        var tenant = NewTenant();
        var impression = new UserEvent("imp-r1", "u", "s1", EventType.Impression, null, null, "r1", null, Now, Now,
            "recommendations", ["a", "b", "c"], "baseline-cooc-1");
        await Log.AppendAsync(tenant, [impression]);

        var read = Assert.Single(await Log.ReadAllAsync(tenant)).Event;

        Assert.Equal(["a", "b", "c"], read.Shown!);
        Assert.Equal("recommendations", read.Surface);
        Assert.Equal("baseline-cooc-1", read.ModelVersion);
    }
}
