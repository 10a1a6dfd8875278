namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.ClickLog;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>
/// The click-log contract on a real 3-master Redis Cluster, plus what only a cluster can show: one tenant's log spread
/// over the masters (a cluster gives a new log <see cref="ClickLogOptions.ClusterPartitions"/> partitions, each its own
/// hash tag), and a killed master's acknowledged records come back with it while the tenant's other partitions go on.
/// </summary>
public sealed class ClusterClickLogTests(RedisClusterFixture fixture) : ClickLogContract, IClassFixture<RedisClusterFixture>
{
    private readonly RedisCluster _cluster = fixture.Cluster;
    private readonly ConnectionMultiplexer _redis = fixture.Redis;
    private readonly IClickLog _log = new RedisClickLog(fixture.Redis, new ServerPolicyBarrier());

    protected override IClickLog Log => _log;

    protected override IDatabase Store => _redis.GetDatabase();

    protected override IClickLog LogAt(TimeProvider time, TimeSpan dedupWindow) =>
        new RedisClickLog(_redis, new ServerPolicyBarrier(), Microsoft.Extensions.Options.Options.Create(new ClickLogOptions { DedupWindow = dedupWindow }), time);

    private static RedisKey LogOf(string tenant, string user) =>
        RedisKeys.Log(RedisKeys.LogTag(tenant, LogPartitioning.Of(user, ClickLogOptions.ClusterPartitions), ClickLogOptions.ClusterPartitions));

    [Fact(Timeout = 60_000)]
    public async Task OneTenantsLogSpreadsOverTheMasters()
    {
        Assert.Equal(3, _redis.GetServers().Count(s => !s.IsReplica));
        const string tenant = "spread";
        var users = Enumerable.Range(0, 64).Select(u => $"user{u}").ToList();
        var appended = await _log.AppendAsync(tenant, [.. users.Select((u, i) => View($"e{i}", u, "a"))]);

        Assert.All(appended, r => Assert.Equal(AppendOutcome.Appended, r.Outcome));
        Assert.Equal(ClickLogOptions.ClusterPartitions, await _log.PartitionsAsync(tenant));
        var holders = new HashSet<int>();
        foreach (var user in users)
        {
            holders.Add((await _cluster.MasterOfAsync(_redis, LogOf(tenant, user))).Port);
        }

        Assert.Equal(3, holders.Count);
        Assert.Equal(users.Count, (await _log.ReadAllAsync(tenant)).Count);
    }

    [Fact(Timeout = 90_000)]
    public async Task AKilledMastersAcknowledgedRecordsComeBackWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        const string tenant = "crash";
        await _log.AppendAsync(tenant, [View("e1", "u", "a"), View("e2", "u", "b")], ct);
        var master = await _cluster.MasterOfAsync(_redis, LogOf(tenant, "u"));

        // A user of the same tenant whose partition another master holds.
        string elsewhere = "";
        for (var i = 0; elsewhere.Length == 0; i++)
        {
            if ((await _cluster.MasterOfAsync(_redis, LogOf(tenant, $"other{i}"))).Port != master.Port)
            {
                elsewhere = $"other{i}";
            }
        }

        try
        {
            await master.KillAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => _log.AppendAsync(tenant, [View("e3", "u", "c")], ct));

            // The tenant's partitions on the other masters keep logging meanwhile.
            Assert.Equal(AppendOutcome.Appended, Assert.Single(await _log.AppendAsync(tenant, [View("x1", elsewhere, "a")], ct)).Outcome);
        }
        finally
        {
            await master.RestartAsync();
        }

        await _cluster.WaitUntilOkAsync(TimeSpan.FromSeconds(45), ct, stableFor: TimeSpan.FromSeconds(6));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<AppendResult> retried;
        while (true)
        {
            try
            {
                retried = await _log.AppendAsync(tenant, [View("e2", "u", "b"), View("e3", "u", "c")], ct);
                break;
            }
            catch (RedisException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct);
            }
        }

        Assert.Equal([AppendOutcome.Duplicate, AppendOutcome.Appended], retried.Select(r => r.Outcome));
        Assert.Equal(["e1", "e2", "e3"], (await _log.ReadUserAsync(tenant, "u", 0, 10, ct)).Select(r => r.Event.EventId));
        Assert.Equal(["e1", "e2", "e3", "x1"], (await _log.ReadAllAsync(tenant, cancellationToken: ct)).Select(r => r.Event.EventId).Order());
    }
}

/// <summary>One 3-master Redis Cluster for a test class (its tests run one at a time; each uses its own tenants).</summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    public RedisCluster Cluster { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cluster = await RedisCluster.StartAsync(3);
        Redis = await ConnectionMultiplexer.ConnectAsync(Cluster.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
