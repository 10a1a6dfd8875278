namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using SessionRec.Silo.Embedded;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>The click-log contract on a real redis-server, plus what only a restartable server can show.</summary>
public sealed class RedisClickLogTests : ClickLogContract, IAsyncLifetime
{
    private RedisServer _server = null!;
    private ConnectionMultiplexer _redis = null!;
    private IClickLog _log = null!;

    protected override IClickLog Log => _log;

    protected override IDatabase Store => _redis.GetDatabase();

    protected override IClickLog LogAt(TimeProvider time, TimeSpan dedupWindow) =>
        new RedisClickLog(_redis, new ServerPolicyBarrier(), Microsoft.Extensions.Options.Options.Create(new ClickLogOptions { DedupWindow = dedupWindow }), time);

    public async ValueTask InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString);
        _log = new RedisClickLog(_redis, new ServerPolicyBarrier());
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task EventsAcknowledgedBeforeARedisCrashAreThereAfterTheRestart()
    {
        await _log.AppendAsync("t", [View("e1", "u", "a"), View("e2", "u", "b")]);
        await _server.KillAsync();
        await Assert.ThrowsAnyAsync<RedisException>(() => _log.AppendAsync("t", [View("e3", "u", "c")]));
        await _server.RestartAsync();

        var records = await WithRetry(() => _log.ReadAllAsync("t"));
        Assert.Equal(["e1", "e2"], records.Select(r => r.Event.EventId));
        Assert.Equal([AppendOutcome.Duplicate, AppendOutcome.Appended], (await WithRetry(() => _log.AppendAsync("t", [View("e2", "u", "b"), View("e3", "u", "c")]))).Select(r => r.Outcome));
    }

    private static async Task<T> WithRetry<T>(Func<Task<T>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RedisException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}

/// <summary>The same contract on the embedded default's in-process Garnet server (one partition, its default).</summary>
public class GarnetClickLogTests : ClickLogContract, IAsyncLifetime
{
    private string _dir = null!;
    private EmbeddedGarnet _garnet = null!;
    private ConnectionMultiplexer _redis = null!;
    private IClickLog _log = null!;

    protected override IClickLog Log => _log;

    protected override IDatabase Store => _redis.GetDatabase();

    /// <summary>The partitions a new tenant's log gets (0: the default, one on a single server).</summary>
    protected virtual int Partitions => 0;

    protected override IClickLog LogAt(TimeProvider time, TimeSpan dedupWindow) =>
        new RedisClickLog(_redis, new GarnetCommitBarrier(_garnet), Microsoft.Extensions.Options.Options.Create(new ClickLogOptions { DedupWindow = dedupWindow, Partitions = Partitions }), time);

    private RedisClickLog NewLog() =>
        new(_redis, new GarnetCommitBarrier(_garnet), Microsoft.Extensions.Options.Options.Create(new ClickLogOptions { Partitions = Partitions }));

    public async ValueTask InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("sessionrec-garnet-").FullName;
        _garnet = EmbeddedGarnet.Start(_dir);
        _redis = await ConnectionMultiplexer.ConnectAsync(_garnet.ConnectionString);
        _log = NewLog();
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        _garnet.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task TheLogSurvivesARestartOfTheEmbeddedServer()
    {
        await _log.AppendAsync("t", [View("e1", "u", "a")]);
        await _redis.DisposeAsync();
        _garnet.Dispose();

        _garnet = EmbeddedGarnet.Start(_dir);
        _redis = await ConnectionMultiplexer.ConnectAsync(_garnet.ConnectionString);
        _log = NewLog();

        Assert.Equal("e1", Assert.Single(await _log.ReadAllAsync("t")).Event.EventId);
        Assert.Equal(AppendOutcome.Duplicate, Assert.Single(await _log.AppendAsync("t", [View("e1", "u", "a")])).Outcome);
    }
}

/// <summary>The same contract on Garnet with four partitions per tenant (what a cluster's many are, on one server).</summary>
public sealed class PartitionedGarnetClickLogTests : GarnetClickLogTests
{
    protected override int Partitions => 4;

    [Fact]
    public async Task ATenantsUsersSpreadOverItsPartitionsAndAMergedReadIsInArrivalOrder()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        var users = Enumerable.Range(0, 40).Select(u => $"user{u}").ToList();
        var events = new List<UserEvent>();
        for (var i = 0; i < 400; i++)
        {
            // One event a second, received as it happens: arrival order is event order.
            time.Advance(TimeSpan.FromSeconds(1));
            events.Add(new UserEvent($"e{i}", users[(i * 7) % users.Count], null, EventType.View, $"i{i}", null, null, null, time.GetUtcNow(), time.GetUtcNow()));
        }

        // Appended in batches of 50, each batch split over the partitions it touches.
        foreach (var batch in events.Chunk(50))
        {
            await Log.AppendAsync("spread", batch);
        }

        Assert.Equal(4, await Log.PartitionsAsync("spread"));
        var last = await Log.LastPositionAsync("spread");
        Assert.All(Enumerable.Range(0, 4), p => Assert.InRange(last[p], 40, 160));
        Assert.Equal(400, last.Total);

        // Pages of 64 (16 a partition when even): the merge never passes a record a partition has not read yet.
        var position = LogPosition.Start(4);
        var read = new List<ClickLogRecord>();
        ClickLogPage page;
        do
        {
            page = await Log.ReadAsync("spread", position, 64);
            read.AddRange(page.Records);
            position = position.After(page.Records);
        }
        while (page.More);

        Assert.Equal(events.Select(e => e.EventId), read.Select(r => r.Event.EventId));
        Assert.All(read, r => Assert.Equal(LogPartitioning.Of(r.Event.UserId, 4), r.Partition));
        Assert.Equal(last, position);
    }
}
