namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.Analytics;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The analytics builder keeps per-day aggregates as the log grows: a new activation (here a whole new cluster on the
/// same store) reports from the published aggregates without the log's records and resumes the log after them; an
/// erasure takes a user's closed and open sessions out of what is reported and stored.
/// </summary>
public sealed class AnalyticsBuilderTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddHours(-5);

    private static readonly AnalyticsQueryView Everything = new(null, null, null, null, "NUM", 100, null, null);

    /// <summary>A session of the user at <paramref name="start"/>: a view, a list of two items, a click on the first when asked (NUM 1; without: 0).</summary>
    private static UserEvent[] Session(string user, TimeSpan start, bool click, string model = "v1")
    {
        var at = T0 + start;
        var request = $"r-{user}-{start.TotalMinutes}";
        var events = new List<UserEvent>
        {
            new($"{request}-v", user, null, EventType.View, "a", null, null, null, at, at),
            new($"imp-{request}", user, null, EventType.Impression, "a", null, request, null, at.AddSeconds(1), at.AddSeconds(1), "recommendations", ["b", "c"], model),
        };
        if (click)
        {
            events.Add(new($"{request}-c", user, null, EventType.Click, "b", null, request, 1, at.AddSeconds(5), at.AddSeconds(5)));
        }

        return [.. events];
    }

    /// <remarks>Also on a log of four partitions: the checkpoint's position is then one sequence per partition.</remarks>
    [Theory(Timeout = 120_000)]
    [InlineData(1)]
    [InlineData(4)]
    public async Task ANewClusterReportsFromThePublishedAggregatesAndResumesTheLogAfterThem(int partitions)
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);

        // A tenant's partition count is fixed in the store before its first record; every process then uses it.
        await redis.GetDatabase().StringSetAsync(RedisKeys.LogPartitions(tenant), partitions);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());

        // Three users' sessions five hours ago, and one now (which moves the log's clock past them: they close).
        await log.AppendAsync(tenant, [.. Enumerable.Range(0, 3).SelectMany(u => Session($"u{u}", TimeSpan.FromMinutes(u), click: u > 0))]);
        await log.AppendAsync(tenant, Session("late", TimeSpan.FromHours(5), click: true));
        var analytics = fixture.Cluster.GrainFactory.GetGrain<IAnalyticsGrain>(tenant);
        Assert.Equal(11, await analytics.CatchUpAsync());
        var first = await analytics.ReportAsync(Everything);
        Assert.Equal(4, first.Sessions);
        Assert.Equal(11, first.Records);
        Assert.Equal(0.75, first.ByModel.Single().Metric.Value, 9);
        Assert.False(first.Behind);
        Assert.True(await redis.GetDatabase().KeyExistsAsync(RedisKeys.AnalyticsUser(tenant, "u1")), "closed sessions' digests are stored");
        Assert.False(await redis.GetDatabase().KeyExistsAsync(RedisKeys.AnalyticsUser(tenant, "late")), "the open session is in the checkpoint only");

        // The log's records are gone (its sequences stay): only the published aggregates can explain the report now.
        var logs = new List<RedisKey>();
        foreach (var tag in Enumerable.Range(0, partitions).Select(p => RedisKeys.LogTag(tenant, p, partitions)))
        {
            // One partition's keys at a time: a cluster refuses a command over several slots.
            var last = (long?)await redis.GetDatabase().StringGetAsync(RedisKeys.LogSequence(tag)) ?? 0;
            var records = Enumerable.Range(1, (int)last).Select(s => RedisKeys.LogRecord(tag, s)).ToArray();
            Assert.Equal(records.Length, await redis.GetDatabase().KeyDeleteAsync(records));
            logs.AddRange(records);
        }

        Assert.Equal(11, logs.Count);
        Assert.Equal(0, await redis.GetDatabase().KeyExistsAsync([.. logs]));
        var second = await ClusterFixture.StartClusterAsync(fixture.Redis.ConnectionString);
        try
        {
            var resumed = second.GrainFactory.GetGrain<IAnalyticsGrain>(tenant);
            var report = await resumed.ReportAsync(Everything);
            Assert.Equal(first.Sessions, report.Sessions);
            Assert.Equal(first.Records, report.Records);
            Assert.Equal(first.ByModel.Single().Metric, report.ByModel.Single().Metric);
            Assert.Equal(first.Worst.Select(w => w.SessionId), report.Worst.Select(w => w.SessionId));

            // Two more users: the resumed builder reads the log after the aggregates' position and counts them on top.
            await log.AppendAsync(tenant, [.. new[] { "u7", "u8" }.SelectMany(u => Session(u, TimeSpan.FromHours(5), click: false, model: "v2"))]);
            Assert.Equal(15, await resumed.CatchUpAsync());
            var after = await resumed.ReportAsync(Everything with { CompareA = "v1", CompareB = "v2" });
            Assert.Equal(6, after.Sessions);
            Assert.Equal(["v1", "v2"], after.ByModel.Select(m => m.ModelVersion));
            Assert.Equal(0 - first.ByModel.Single().Metric.Value, after.Comparison!.Difference.Value, 9);
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ForgettingAUserTakesTheirClosedAndOpenSessionsOutOfTheReportAndTheStore()
    {
        var tenant = "t" + Guid.NewGuid().ToString("N")[..10];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var user = "erase-me-" + Guid.NewGuid().ToString("N")[..6];
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        await log.AppendAsync(tenant, [.. Session(user, TimeSpan.Zero, click: false), .. Session("keep-me", TimeSpan.Zero, click: true)]);
        await log.AppendAsync(tenant, [.. Session(user, TimeSpan.FromHours(5), click: false), .. Session("keep-me", TimeSpan.FromHours(5), click: true)]);
        var analytics = fixture.Cluster.GrainFactory.GetGrain<IAnalyticsGrain>(tenant);
        await analytics.CatchUpAsync();
        var before = await analytics.ReportAsync(Everything);
        Assert.Equal(4, before.Sessions);
        Assert.Equal(0.5, before.ByModel.Single().Metric.Value, 9);
        Assert.Contains(before.Worst, w => w.UserId == user);
        Assert.True(await redis.GetDatabase().KeyExistsAsync(RedisKeys.AnalyticsUser(tenant, user)));

        // The log is erased first (as the erasure route does); the builder then forgets what it kept.
        await log.EraseUserAsync(tenant, user);
        Assert.True(await analytics.ForgetUserAsync(user));

        var after = await analytics.ReportAsync(Everything);
        Assert.Equal(2, after.Sessions);
        Assert.Equal(6, after.Records);
        Assert.Equal(1, after.ByModel.Single().Metric.Value, 9);
        Assert.DoesNotContain(after.Worst, w => w.UserId == user);
        Assert.False(await redis.GetDatabase().KeyExistsAsync(RedisKeys.AnalyticsUser(tenant, user)));
        foreach (var key in new[] { RedisKeys.AnalyticsSnapshot(tenant), RedisKeys.AnalyticsCheckpoint(tenant) })
        {
            var stored = (byte[])(await redis.GetDatabase().StringGetAsync(key))!;
            Assert.DoesNotContain(user, System.Text.Encoding.UTF8.GetString(stored));
            Assert.Contains("keep-me", System.Text.Encoding.UTF8.GetString(stored));
        }
    }
}
