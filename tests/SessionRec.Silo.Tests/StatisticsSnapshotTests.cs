namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Abstractions.Statistics;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The statistics builder publishes snapshots; recommendations are ranked over a silo's replica of them, and a
/// new activation — here a whole new cluster on the same store — resumes from the snapshot, not from the log.
/// </summary>
public sealed class StatisticsSnapshotTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddHours(-3);

    private static UserEvent View(string id, string user, string item, TimeSpan at) =>
        new(id, user, null, EventType.View, item, null, null, null, T0 + at, T0 + at);

    private static CatalogueItem Item(string id) =>
        new(id, $"Item {id}", null, ["Cat"], new Dictionary<string, string>(), null, true, T0);

    [Fact(Timeout = 120_000)]
    public async Task ANewClusterServesFromTheSnapshotAndResumesTheLogAfterIt()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        var catalogue = fixture.Cluster.GrainFactory.GetGrain<ICatalogueGrain>(tenant);
        await catalogue.UpsertAsync(new[] { "a", "b", "c" }.Select(Item).ToList());

        // Three users go a → b.
        await log.AppendAsync(tenant, [.. Enumerable.Range(0, 3).SelectMany(u => new[] { View($"{u}-1", $"u{u}", "a", TimeSpan.FromMinutes(u)), View($"{u}-2", $"u{u}", "b", TimeSpan.FromMinutes(u + 1)) })]);
        var position = await catalogue.CatchUpAsync();
        Assert.Equal(6, position);
        Assert.Equal(6, (long)await redis.GetDatabase().StringGetAsync(RedisKeys.StatisticsPosition(tenant)));

        // The log's records are gone (its sequence stays): only the snapshot can explain a→b from here on.
        Assert.Equal(6, await redis.GetDatabase().KeyDeleteAsync([.. Enumerable.Range(1, 6).Select(s => RedisKeys.LogRecord(tenant, s))]));

        var second = await ClusterFixture.StartClusterAsync(fixture.Redis.ConnectionString);
        try
        {
            var fresh = second.GrainFactory.GetGrain<ICatalogueGrain>(tenant);
            var list = await second.GrainFactory.GetGrain<IRecommenderGrain>(tenant).RecommendAsync(new RecommendationRequest(10, ["a"], [], null));
            Assert.Equal(("b", "cooccurrence"), (list.Items[0].ItemId, list.Items[0].Source));

            // Four more users go a → c: the new cluster's builder resumes after the snapshot and counts them on top.
            await log.AppendAsync(tenant, [.. Enumerable.Range(3, 4).SelectMany(u => new[] { View($"{u}-1", $"u{u}", "a", TimeSpan.FromMinutes(u)), View($"{u}-2", $"u{u}", "c", TimeSpan.FromMinutes(u + 1)) })]);
            Assert.Equal(14, await fresh.CatchUpAsync());
            var after = await second.GrainFactory.GetGrain<IRecommenderGrain>(tenant).RecommendAsync(new RecommendationRequest(10, ["a"], [], null));
            Assert.Equal(["c", "b"], after.Items.Where(i => i.Source == "cooccurrence").Select(i => i.ItemId));
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ImpressionsDoNotRepublishTheStatisticsButTheNextViewPublishesPastThem()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        var db = redis.GetDatabase();
        async Task<long> PublishedAsync() => (long?)await db.StringGetAsync(RedisKeys.StatisticsPosition(tenant)) ?? 0;
        await log.AppendAsync(tenant, [View("1", "u", "a", TimeSpan.Zero), View("2", "u", "b", TimeSpan.FromMinutes(1))]);
        var builder = fixture.Cluster.GrainFactory.GetGrain<IStatisticsBuilderGrain>(tenant);
        Assert.Equal(2, await builder.CatchUpAsync());
        var snapshot = (byte[]?)await db.StringGetAsync(RedisKeys.StatisticsSnapshot(tenant));

        // Twenty served lists: the builder reads them (its tail tick, every second) and counts nothing. Before, it
        // rewrote the whole snapshot for them once its interval (5 s) had passed; now the published one stays. A
        // change that does not come cannot be polled for: the wait covers the interval and a tick with a margin.
        var impressions = Enumerable.Range(0, 20).Select(i => View($"imp-{i}", "u", "a", TimeSpan.FromMinutes(2)) with { Type = EventType.Impression, RequestId = $"r{i}" }).ToList();
        await log.AppendServedAsync(tenant, impressions);
        var quiet = DateTime.UtcNow.AddSeconds(8);
        while (DateTime.UtcNow < quiet)
        {
            Assert.Equal(2, await PublishedAsync());
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.Equal(snapshot, (byte[]?)await db.StringGetAsync(RedisKeys.StatisticsSnapshot(tenant)));

        // A view changes the statistics: the next snapshot covers it and the impressions read before it.
        await log.AppendAsync(tenant, [View("3", "u", "c", TimeSpan.FromMinutes(3))]);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await PublishedAsync() != 23)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the snapshot stayed at log position {await PublishedAsync()}, not 23, for 30 s after a view");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData(false, false, 0, true)]
    [InlineData(true, true, 0, true)]
    [InlineData(true, false, 99_999, false)]
    [InlineData(true, false, 100_000, true)]
    public void ASnapshotIsWrittenFirstThenForAChangeOrAfterItsBoundOfRecordsThatChangedNothing(bool anyPublished, bool changed, long unchanged, bool worth) =>
        Assert.Equal(worth, SessionRec.Silo.Snapshots.SnapshotBuilderGrain.WorthPublishing(anyPublished, changed, unchanged, SessionRec.Silo.Snapshots.SnapshotBuilderGrain.UnchangedRecordsPerSnapshot));

    [Fact(Timeout = 60_000)]
    public async Task ForgettingAUserRemovesTheirLiveSessionFromTheStoredCheckpointAtOnce()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var user = "erase-me-" + Guid.NewGuid().ToString("N")[..6];
        await new RedisClickLog(redis, new ServerPolicyBarrier()).AppendAsync(tenant, [View("1", user, "a", TimeSpan.Zero), View("2", "keep-me", "a", TimeSpan.Zero)]);
        var builder = fixture.Cluster.GrainFactory.GetGrain<IStatisticsBuilderGrain>(tenant);
        await builder.CatchUpAsync();
        var store = new SessionRec.Silo.Statistics.StatisticsSnapshotStore(new SessionRec.Silo.Snapshots.SnapshotStore(redis));
        Assert.True(await Contains(redis, tenant, user));
        Assert.True(await store.HoldsUserAsync(tenant, user));

        Assert.True(await builder.ForgetUserAsync(user));

        Assert.False(await Contains(redis, tenant, user));
        Assert.False(await store.HoldsUserAsync(tenant, user));
        Assert.True(await Contains(redis, tenant, "keep-me"));
        Assert.True(await store.HoldsUserAsync(tenant, "keep-me"));
    }

    [Fact(Timeout = 60_000)]
    public async Task ForgettingAUserDropsTheirSessionsFromThePublishedNeighbourPoolAtOnce()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var user = "erase-me-" + Guid.NewGuid().ToString("N")[..6];
        UserEvent InSession(string id, string who, string session, string item, int minute) =>
            new(id, who, session, EventType.View, item, null, null, null, T0 + TimeSpan.FromMinutes(minute), T0 + TimeSpan.FromMinutes(minute));

        // The user's first session (a, b) is over — only the neighbour pool remembers it; their second (c) is live.
        await new RedisClickLog(redis, new ServerPolicyBarrier()).AppendAsync(tenant,
        [
            InSession("1", user, "s1", "a", 0), InSession("2", user, "s1", "b", 1), InSession("3", user, "s2", "c", 2),
            InSession("4", "keep-me", "k1", "a", 0), InSession("5", "keep-me", "k1", "d", 1),
        ]);
        var builder = fixture.Cluster.GrainFactory.GetGrain<IStatisticsBuilderGrain>(tenant);
        await builder.CatchUpAsync();
        var store = new SessionRec.Silo.Statistics.StatisticsSnapshotStore(new SessionRec.Silo.Snapshots.SnapshotStore(redis));
        var before = (await store.ReadSnapshotAsync(tenant))!.Value.Value;
        Assert.Equal(3, before.Neighbours.Count);
        Assert.Contains(Index(before, "b"), Votes(before, "a"));

        Assert.True(await builder.ForgetUserAsync(user));

        var after = (await store.ReadSnapshotAsync(tenant))!.Value.Value;
        Assert.Equal(1, after.Neighbours.Count);
        Assert.Equal([Index(after, "a"), Index(after, "d")], Votes(after, "a").Order());
        Assert.False(await store.HoldsUserAsync(tenant, user));
        Assert.True(await store.HoldsUserAsync(tenant, "keep-me"));
    }

    private static int Index(SessionRec.Models.Baseline.InteractionStatistics statistics, string item) =>
        statistics.TryGetIndex(item, out var index) ? index : throw new KeyNotFoundException(item);

    private static IEnumerable<int> Votes(SessionRec.Models.Baseline.InteractionStatistics statistics, string item)
    {
        var votes = new Dictionary<int, float>();
        statistics.Neighbours.Score([Index(statistics, item)], votes);
        return votes.Keys;
    }

    private static async Task<bool> Contains(IConnectionMultiplexer redis, string tenant, string text)
    {
        var bytes = (byte[]?)await redis.GetDatabase().StringGetAsync(RedisKeys.StatisticsSessions(tenant));
        return bytes is not null && bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;
    }
}
