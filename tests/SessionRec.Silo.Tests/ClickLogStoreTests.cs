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

        var records = await WithRetry(() => _log.ReadAsync("t", 1, 10));
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

/// <summary>The same contract on the embedded default's in-process Garnet server.</summary>
public sealed class GarnetClickLogTests : ClickLogContract, IAsyncLifetime
{
    private string _dir = null!;
    private EmbeddedGarnet _garnet = null!;
    private ConnectionMultiplexer _redis = null!;
    private IClickLog _log = null!;

    protected override IClickLog Log => _log;

    protected override IDatabase Store => _redis.GetDatabase();

    protected override IClickLog LogAt(TimeProvider time, TimeSpan dedupWindow) =>
        new RedisClickLog(_redis, new GarnetCommitBarrier(_garnet), Microsoft.Extensions.Options.Options.Create(new ClickLogOptions { DedupWindow = dedupWindow }), time);

    public async ValueTask InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("sessionrec-garnet-").FullName;
        _garnet = EmbeddedGarnet.Start(_dir);
        _redis = await ConnectionMultiplexer.ConnectAsync(_garnet.ConnectionString);
        _log = new RedisClickLog(_redis, new GarnetCommitBarrier(_garnet));
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
        _log = new RedisClickLog(_redis, new GarnetCommitBarrier(_garnet));

        Assert.Equal("e1", Assert.Single(await _log.ReadAsync("t", 1, 10)).Event.EventId);
        Assert.Equal(AppendOutcome.Duplicate, Assert.Single(await _log.AppendAsync("t", [View("e1", "u", "a")])).Outcome);
    }
}
