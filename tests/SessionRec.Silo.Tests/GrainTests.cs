namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.DependencyInjection;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Abstractions.Sessions;
using Orleans.Serialization;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Sessions;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

public sealed class GrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddHours(-3);

    private static UserEvent Evt(string id, string user, EventType type, string? item, TimeSpan at, string? session = null) =>
        new(id, user, session, type, item, null, null, null, T0 + at, T0 + at);

    private static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..10];

    private IUserSessionGrain Session(string tenant, string user) =>
        fixture.Cluster.GrainFactory.GetGrain<IUserSessionGrain>(TenantKey.For(tenant, user));

    [Fact]
    public async Task ANewSessionStartsAfterTheInactivityTimeout()
    {
        var grain = Session(NewTenant(), "u");
        await grain.RecordAsync([
            Evt("1", "u", EventType.View, "a", TimeSpan.Zero),
            Evt("2", "u", EventType.View, "b", TimeSpan.FromMinutes(29)),
            Evt("3", "u", EventType.View, "c", TimeSpan.FromMinutes(29 + 31)),
        ], []);

        var view = await grain.GetAsync();

        Assert.Equal(["c"], view.Current!.Events.Select(e => e.ItemId));
        Assert.Equal(["a", "b"], Assert.Single(view.Recent).Events.Select(e => e.ItemId));
    }

    [Fact]
    public async Task AClientSessionIdChangeStartsANewSession()
    {
        var grain = Session(NewTenant(), "u");
        await grain.RecordAsync([
            Evt("1", "u", EventType.View, "a", TimeSpan.Zero, "s1"),
            Evt("2", "u", EventType.View, "b", TimeSpan.FromMinutes(1), "s2"),
        ], []);

        var view = await grain.GetAsync();

        Assert.Equal("s2", view.Current!.SessionId);
        Assert.Equal("s1", Assert.Single(view.Recent).SessionId);
    }

    [Fact]
    public async Task RetriedEventsAreAppliedOnce()
    {
        var grain = Session(NewTenant(), "u");
        var first = await grain.RecordAsync([Evt("1", "u", EventType.View, "a", TimeSpan.Zero)], []);
        var retry = await grain.RecordAsync([Evt("1", "u", EventType.View, "a", TimeSpan.Zero), Evt("2", "u", EventType.View, "b", TimeSpan.FromSeconds(5))], []);

        Assert.Equal((1, 0), (first.Applied, first.AlreadySeen));
        Assert.Equal((1, 1), (retry.Applied, retry.AlreadySeen));
        Assert.Equal(["a", "b"], (await grain.GetAsync()).Current!.Events.Select(e => e.ItemId));
    }

    [Fact]
    public async Task TheContextListsSessionItemsAndPurchasesSeparately()
    {
        var grain = Session(NewTenant(), "u");
        await grain.RecordAsync([
            Evt("1", "u", EventType.View, "a", TimeSpan.Zero),
            Evt("2", "u", EventType.View, "b", TimeSpan.FromMinutes(1)),
            Evt("3", "u", EventType.View, "a", TimeSpan.FromMinutes(2)),
            Evt("4", "u", EventType.Purchase, "b", TimeSpan.FromMinutes(3)),
        ], []);

        var context = await grain.GetContextAsync();

        Assert.Equal(["b", "a"], context.RecentItems);
        Assert.Equal(["b"], context.PurchasedItems);
    }

    [Fact(Timeout = 120_000)]
    public async Task SessionStateIsWrittenBehindOnceEnoughEventsAreUnwrittenAndWhenTheGrainDeactivates()
    {
        var tenant = NewTenant();
        var grain = Session(tenant, "u");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        RedisKey? Stored() => server.Keys(pattern: $"*{tenant}*").Cast<RedisKey?>().FirstOrDefault();
        async Task<RedisKey> WaitStoredAsync(string what)
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(15); ; await Task.Delay(100, TestContext.Current.CancellationToken))
            {
                if (Stored() is { } key)
                {
                    return key;
                }

                Assert.True(DateTime.UtcNow < deadline, what);
            }
        }

        // Three events (fewer than Sessions:PersistAfterEvents, 50): two persist intervals (2 s) later nothing is
        // written; the click log would replay them.
        await grain.RecordAsync([.. Enumerable.Range(0, 3).Select(i => Evt($"a{i}", "u", EventType.View, "a", TimeSpan.FromSeconds(i)))], []);
        await Task.Delay(4_500, TestContext.Current.CancellationToken);
        Assert.Null(Stored());

        // Fifty more: the write-behind timer writes the state without any other call.
        await grain.RecordAsync([.. Enumerable.Range(0, 50).Select(i => Evt($"b{i}", "u", EventType.View, "b", TimeSpan.FromSeconds(10 + i)))], []);
        var key = await WaitStoredAsync("the session state was not written within 15 s of 53 unwritten events");
        var written = (byte[])(await redis.GetDatabase().StringGetAsync(key))!;
        Assert.True(written.Length > 100, $"the stored state holds {written.Length} bytes");

        // One more, then the grain deactivates: what was unwritten is written then.
        await grain.RecordAsync([Evt("c", "u", EventType.View, "c", TimeSpan.FromSeconds(100))], []);
        await fixture.Cluster.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var rewritten = (byte[])(await redis.GetDatabase().StringGetAsync(key))!;
        Assert.NotEqual(written, rewritten);
        Assert.Equal(54, (await Session(tenant, "u").GetAsync()).Current!.Events.Count);
    }

    [Fact]
    public async Task ANewActivationReplaysTheUsersClickLogRecordsAfterItsStoredState()
    {
        var tenant = NewTenant();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        var events = new[] { Evt("1", "u", EventType.View, "a", TimeSpan.Zero), Evt("2", "u", EventType.View, "b", TimeSpan.FromMinutes(1)) };
        var logged = await log.AppendAsync(tenant, events);
        await Session(tenant, "u").RecordAsync([events[0]], [logged[0].Sequence]);

        var second = await ClusterFixture.StartClusterAsync(fixture.Redis.ConnectionString);
        try
        {
            // Another cluster, same Redis: the grain activates there from the stored state (if written yet) and
            // the click log, including the event the first activation never saw.
            var view = await second.GrainFactory.GetGrain<IUserSessionGrain>(TenantKey.For(tenant, "u")).GetAsync();
            Assert.Equal(["a", "b"], view.Current!.Events.Select(e => e.ItemId));
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task ReplayAfterARestartRebuildsExactlyTheSessionsTheLivePathBuilt()
    {
        var tenant = NewTenant();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());

        // What the API does: posted events (a client-reported impression among them) are logged and forwarded to
        // the session grain; the lists the service serves are logged as impressions and never forwarded.
        var posted = new[]
        {
            Evt("v1", "u", EventType.View, "a", TimeSpan.Zero),
            Evt("v2", "u", EventType.View, "b", TimeSpan.FromMinutes(1)),
            Evt("ci", "u", EventType.Impression, "b", TimeSpan.FromMinutes(2)),
        };
        var postedAt = await log.AppendAsync(tenant, posted);
        var live = Session(tenant, "u");
        await live.RecordAsync(posted, [.. postedAt.Select(r => r.Sequence)]);
        var served = Enumerable.Range(0, 7).Select(i => new UserEvent(
            $"imp-r{i}", "u", null, EventType.Impression, null, null, $"r{i}", null, T0 + TimeSpan.FromMinutes(40 + i), T0 + TimeSpan.FromMinutes(40 + i),
            "recommendations", ["x", "y"], "baseline-cooc-1")).ToArray();
        await log.AppendAsync(tenant, served);
        var before = Describe(await live.GetAsync());
        var contextBefore = await live.GetContextAsync();

        var second = await ClusterFixture.StartClusterAsync(fixture.Redis.ConnectionString);
        try
        {
            // Another cluster on the same Redis activates the grain from whatever state was written and the log.
            var replayed = second.GrainFactory.GetGrain<IUserSessionGrain>(TenantKey.For(tenant, "u"));
            Assert.Equal(before, Describe(await replayed.GetAsync()));
            var contextAfter = await replayed.GetContextAsync();
            Assert.Equal(contextBefore.SessionId, contextAfter.SessionId);
            Assert.Equal(contextBefore.RecentItems, contextAfter.RecentItems);
            Assert.Equal(["a", "b"], contextAfter.RecentItems);
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task AReplayOfImpressionsAloneMovesTheStoredPositionSoTheNextActivationDoesNotReadThemAgain()
    {
        var tenant = NewTenant();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        long StoredPosition()
        {
            var key = Assert.Single(server.Keys(pattern: $"*grainstate*{tenant}*"));
            var value = (byte[])redis.GetDatabase().StringGet(key)!;
            return serializer.Deserialize<UserSessionState>(value.AsMemory(32))!.AppliedThrough; // after the 32-byte etag
        }

        var manager = fixture.Cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        var viewed = Evt("v1", "u", EventType.View, "a", TimeSpan.Zero);
        var viewedAt = (await log.AppendAsync(tenant, [viewed]))[0].Sequence;
        await Session(tenant, "u").RecordAsync([viewed], [viewedAt]);

        // The lists served to the user while the grain was active: logged by the API, never forwarded to the grain.
        var served = Enumerable.Range(0, 7).Select(i => new UserEvent(
            $"imp-r{i}", "u", null, EventType.Impression, null, null, $"r{i}", null, T0 + TimeSpan.FromMinutes(1 + i), T0 + TimeSpan.FromMinutes(1 + i),
            "recommendations", ["x", "y"], "baseline-cooc-1")).ToArray();
        var servedAt = await log.AppendAsync(tenant, served);
        await manager.ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(viewedAt, StoredPosition());

        // The next activation replays the seven impressions; they change no session, but the position they reach is
        // written when the grain deactivates, so a third activation reads none of them.
        Assert.Equal(["a"], (await Session(tenant, "u").GetAsync()).Current!.Events.Select(e => e.ItemId));
        await manager.ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(servedAt[^1].Sequence, StoredPosition());
        Assert.Equal(["a"], (await Session(tenant, "u").GetAsync()).Current!.Events.Select(e => e.ItemId));
    }

    private static string Describe(UserSessionView view) =>
        string.Join(" | ", new[] { view.Current }.Concat(view.Recent).Select(s => s is null
            ? "none"
            : $"{s.SessionId}: {string.Join(",", s.Events.Select(e => $"{e.EventId}/{e.Type}/{e.ItemId}"))}"));

    [Fact]
    public async Task ErasingAUserRemovesTheStoredState()
    {
        var tenant = NewTenant();
        var grain = Session(tenant, "u");
        await grain.RecordAsync([.. Enumerable.Range(0, 50).Select(i => Evt($"{i}", "u", EventType.View, "a", TimeSpan.FromSeconds(i)))], []);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        for (var deadline = DateTime.UtcNow.AddSeconds(15); !server.Keys(pattern: $"*{tenant}*").Any(); await Task.Delay(100, TestContext.Current.CancellationToken))
        {
            Assert.True(DateTime.UtcNow < deadline, "the write-behind did not store the state within 15 s");
        }

        await grain.EraseAsync();

        var view = await Session(tenant, "u").GetAsync();
        Assert.Null(view.Current);
        Assert.Empty(view.Recent);
        var keys = server.Keys(pattern: $"*{tenant}*").ToList();
        Assert.Empty(keys);
    }

    [Fact]
    public async Task RecommendationsLearnFromTheClickLogOnceTheStatisticsCatchUp()
    {
        var tenant = NewTenant();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        IClickLog log = new RedisClickLog(redis, new ServerPolicyBarrier());
        var catalogue = fixture.Cluster.GrainFactory.GetGrain<ICatalogueGrain>(tenant);
        await catalogue.UpsertAsync(new[] { "a", "b", "c", "d" }.Select(Item).ToList());

        // Three users go a → b, one goes a → c; nobody touches d.
        var events = new List<UserEvent>();
        for (var u = 0; u < 4; u++)
        {
            events.Add(Evt($"{u}-1", $"u{u}", EventType.View, "a", TimeSpan.FromMinutes(u)));
            events.Add(Evt($"{u}-2", $"u{u}", EventType.View, u < 3 ? "b" : "c", TimeSpan.FromMinutes(u + 1)));
        }

        await log.AppendAsync(tenant, events);
        await catalogue.CatchUpAsync();

        var list = await fixture.Cluster.GrainFactory.GetGrain<IRecommenderGrain>(tenant).RecommendAsync(new RecommendationRequest(10, ["a"], [], null));

        Assert.Equal(["b", "c", "d"], list.Items.Select(i => i.ItemId));
        Assert.Equal(["cooccurrence", "cooccurrence", "new-in-catalogue"], list.Items.Select(i => i.Source));
    }

    [Fact]
    public async Task UnavailableAndDeletedItemsAreNotRecommended()
    {
        var tenant = NewTenant();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var catalogue = fixture.Cluster.GrainFactory.GetGrain<ICatalogueGrain>(tenant);
        await catalogue.UpsertAsync([Item("a"), Item("b") with { Available = false }, Item("c"), Item("d")]);
        await new RedisClickLog(redis, new ServerPolicyBarrier()).AppendAsync(tenant, [
            Evt("1", "u", EventType.View, "a", TimeSpan.Zero),
            Evt("2", "u", EventType.View, "b", TimeSpan.FromMinutes(1)),
            Evt("3", "u", EventType.View, "c", TimeSpan.FromMinutes(2)),
            Evt("4", "u", EventType.View, "d", TimeSpan.FromMinutes(3)),
        ]);
        await catalogue.CatchUpAsync();
        await catalogue.DeleteAsync("c");

        var list = await fixture.Cluster.GrainFactory.GetGrain<IRecommenderGrain>(tenant).RecommendAsync(new RecommendationRequest(10, ["a"], [], null));

        Assert.Equal(["d"], list.Items.Select(i => i.ItemId));
        Assert.Null(await catalogue.GetAsync("c"));
    }

    private static CatalogueItem Item(string id) =>
        new(id, $"Item {id}", null, ["Cat"], new Dictionary<string, string>(), null, true, T0);
}
