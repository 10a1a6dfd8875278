namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Abstractions.Sessions;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Knowledge;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>The knowledge store's grains on a two-silo cluster with Redis storage and the Redis click log.</summary>
public sealed class KnowledgeGrainTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddHours(-2);

    private static UserEvent Evt(string id, string user, EventType type, string? item, string? query, int minute) =>
        new(id, user, null, type, item, query, null, null, T0.AddMinutes(minute), T0.AddMinutes(minute));

    private static string NewTenant() => "k" + Guid.NewGuid().ToString("N")[..10];

    private static CatalogueItem Item(string id, string title, string brand, params string[] categories) =>
        new(id, title, brand, categories, new Dictionary<string, string>(), null, true, T0);

    /// <summary>The key of the tenant's stored knowledge state (Orleans grain storage, not the service's own sr: keys), if written.</summary>
    private static async Task<RedisKey?> StoredStateKeyAsync(IConnectionMultiplexer redis, string tenant)
    {
        await foreach (var key in redis.GetServer(redis.GetEndPoints()[0]).KeysAsync(pattern: $"*{tenant}*"))
        {
            if (!key.ToString().StartsWith("sr:", StringComparison.Ordinal) && key.ToString().Contains("knowledge", StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    [Fact]
    public async Task TheKnowledgeStoreFoldsInTheUsersLogRecordsLinkedToTheGraph()
    {
        var tenant = NewTenant();
        var grains = fixture.Cluster.GrainFactory;
        await grains.GetGrain<ICatalogueGrain>(tenant).UpsertAsync([Item("lip-1", "OPI Red Lipstick", "OPI", "Makeup", "Lips")]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        await log.AppendAsync(tenant, [
            Evt("1", "u", EventType.Search, null, "opi lips", 0),
            Evt("2", "u", EventType.View, "lip-1", null, 1),
            Evt("3", "u", EventType.Purchase, "lip-1", null, 2),
            Evt("4", "other", EventType.View, "lip-1", null, 3),
        ]);

        var knowledge = grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "u"));
        var view = await knowledge.GetAsync();

        Assert.Equal(["searched", "viewed", "bought"], view.Stream.Select(r => r.Source));
        Assert.Equal("OPI Red Lipstick", view.Stream[1].Text);
        var opi = Assert.Single(view.Aggregates, a => a.Id == "brand:opi");
        Assert.Equal(["bought", "searched", "viewed"], opi.Sources.Select(s => s.Source).Order(StringComparer.Ordinal));
        Assert.Contains(view.Aggregates, a => a.Id == "category:makeup/lips");

        // Read again: nothing new in the log, nothing counted twice.
        Assert.Equal(3, (await knowledge.GetAsync()).Aggregates.Single(a => a.Id == "brand:opi").Sources.Sum(s => s.Count));

        // Erased, it starts empty; the user's log records are gone too in production (the API erases both).
        await knowledge.EraseAsync();
        await log.EraseUserAsync(tenant, "u");
        Assert.Empty((await grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "u")).GetAsync()).Aggregates);
    }

    [Fact(Timeout = 120_000)]
    public async Task AStoreAFewRecordsBehindIsRebuiltFromTheLogAndWrittenBehindOnceEnoughWereFolded()
    {
        var tenant = NewTenant();
        var grains = fixture.Cluster.GrainFactory;
        await grains.GetGrain<ICatalogueGrain>(tenant).UpsertAsync([Item("n-1", "Essie Nail Polish", "Essie", "Makeup", "Nails")]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        await log.AppendAsync(tenant, [.. Enumerable.Range(0, 3).Select(i => Evt($"a{i}", "u", EventType.View, "n-1", null, i))]);
        var knowledge = grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "u"));
        Assert.Equal(3, (await knowledge.GetAsync()).Stream.Count);

        // Deactivated with three records folded (fewer than Knowledge:PersistAfterRecords, 50): nothing is written,
        // and the next activation folds them again from the log.
        async Task<bool> StoredAsync() => await StoredStateKeyAsync(redis, tenant) is not null;

        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.False(await StoredAsync());
        Assert.Equal(3, (await knowledge.GetAsync()).Aggregates.Single(a => a.Id == "brand:essie").Sources.Sum(s => s.Count));

        // Fifty more: the write-behind timer (Sessions:PersistInterval, 2 s) writes it while it stays active.
        await log.AppendAsync(tenant, [.. Enumerable.Range(0, 50).Select(i => Evt($"b{i}", "u", EventType.View, "n-1", null, 10 + i))]);
        Assert.Equal(53, (await knowledge.GetAsync()).Aggregates.Single(a => a.Id == "brand:essie").Sources.Sum(s => s.Count));
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !await StoredAsync(); await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < deadline, "the store was not written within 30 s");
        }

        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(53, (await knowledge.GetAsync()).Aggregates.Single(a => a.Id == "brand:essie").Sources.Sum(s => s.Count));
    }

    [Fact(Timeout = 120_000)]
    public async Task ImpressionsReadPastTheStoreCountTowardsItsWriteSoNoActivationReadsThemAgainWithoutEnd()
    {
        var tenant = NewTenant();
        var grains = fixture.Cluster.GrainFactory;
        await grains.GetGrain<ICatalogueGrain>(tenant).UpsertAsync([Item("n-1", "Essie Nail Polish", "Essie", "Makeup", "Nails")]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        async Task<long?> StoredPositionAsync()
        {
            if (await StoredStateKeyAsync(redis, tenant) is not { } key)
            {
                return null;
            }

            var value = (byte[])(await redis.GetDatabase().StringGetAsync(key))!;
            return serializer.Deserialize<UserKnowledgeState>(value.AsMemory(32))!.AppliedThrough; // after the 32-byte etag
        }

        await log.AppendAsync(tenant, [Evt("v", "u", EventType.View, "n-1", null, 0)]);
        var knowledge = grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "u"));
        Assert.Single((await knowledge.GetAsync()).Stream);

        // Sixty lists served to the user (logged by the API): the store keeps none of them, but reading them moves its
        // position past Knowledge:PersistAfterRecords (50) records, so the write-behind stores that position.
        var served = await log.AppendAsync(tenant, [.. Enumerable.Range(0, 60).Select(i => new UserEvent(
            $"imp-{i}", "u", null, EventType.Impression, null, null, $"r{i}", null, T0.AddMinutes(1 + i), T0.AddMinutes(1 + i),
            "suggestions", ["x", "y"], "suggest-kg-1"))]);
        Assert.Single((await knowledge.GetAsync()).Stream);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); await StoredPositionAsync() != served[^1].Sequence; await Task.Delay(100, TestContext.Current.CancellationToken))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the store's position was not written within 30 s (stored: {await StoredPositionAsync()})");
        }

        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(1, (await knowledge.GetAsync()).Aggregates.Single(a => a.Id == "brand:essie").Sources.Sum(s => s.Count));
    }

    [Fact]
    public async Task TheStoredKnowledgeIsFoundByAnotherClusterAndContinued()
    {
        var tenant = NewTenant();
        await fixture.Cluster.GrainFactory.GetGrain<ICatalogueGrain>(tenant).UpsertAsync([Item("n-1", "Essie Nail Polish", "Essie", "Makeup", "Nails")]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        await log.AppendAsync(tenant, [Evt("1", "u", EventType.View, "n-1", null, 0)]);
        await fixture.Cluster.GrainFactory.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "u")).GetAsync();
        await log.AppendAsync(tenant, [Evt("2", "u", EventType.Purchase, "n-1", null, 1)]);

        var second = await ClusterFixture.StartClusterAsync(fixture.Redis.ConnectionString);
        try
        {
            var view = await second.GrainFactory.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "u")).GetAsync();
            Assert.Equal(["viewed", "bought"], view.Stream.Select(r => r.Source));
            Assert.Equal(2, view.Aggregates.Single(a => a.Id == "brand:essie").Sources.Sum(s => s.Count));
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task SuggestionsComeFromThePublishedQueryLogAndTheGraphFollowsTheCatalogue()
    {
        var tenant = NewTenant();
        var grains = fixture.Cluster.GrainFactory;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        await log.AppendAsync(tenant, [
            Evt("1", "a", EventType.Search, null, "lipstick", 0),
            Evt("2", "a", EventType.Search, null, "red lipstick", 1),
            Evt("3", "b", EventType.Search, null, "lipstick", 5),
            Evt("4", "b", EventType.Search, null, "red lipstick", 6),
            Evt("5", "d", EventType.Search, null, "lipstick", 8),
            Evt("6", "d", EventType.Search, null, "red lipstick", 9),
            Evt("7", "loner", EventType.Search, null, "lip liner", 9),
        ]);

        // The builder publishes what at least Knowledge:MinDistinctUsers (three) searched, and every silo loads it.
        Assert.Equal(7, await grains.GetGrain<ISuggestionGrain>(tenant).CatchUpAsync());
        var published = await new SessionRec.Silo.Snapshots.SnapshotStore(redis).ReadPublishedAsync(
            SessionRec.Silo.Suggestions.QueryLogReplicas.Keys(tenant), SessionRec.KnowledgeStore.Suggestions.QueryLogSnapshot.ReadFrom);
        Assert.Equal(["lipstick", "red lipstick"], published!.Value.Value.TopCompletions("", 10).Select(q => q.Key));

        var user = grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, "c"));
        var completed = await user.SuggestAsync(new SuggestionRequest("li", [], null, 5, null, DateTimeOffset.UtcNow), 0);
        Assert.Equal("lipstick", completed.Items[0].Text);
        Assert.DoesNotContain(completed.Items, s => s.Text == "lip liner");

        // What people searched next, for a session whose last query was "lipstick".
        var next = await user.SuggestAsync(new SuggestionRequest("", ["lipstick"], null, 5, null, DateTimeOffset.UtcNow), 0);
        Assert.Equal(("red lipstick", "next-query"), (next.Items[0].Text, next.Items[0].Source));

        // A new catalogue item's brand becomes an entity without a restart: its view is described with it.
        await grains.GetGrain<ICatalogueGrain>(tenant).UpsertAsync([Item("m-1", "Maybelline Mascara", "Maybelline", "Makeup", "Eyes")]);
        await log.AppendAsync(tenant, [Evt("8", "c", EventType.View, "m-1", null, 10)]);
        // The graph is built on a silo's first suggestion request; until it is, the view's record waits in the log.
        var view = await user.GetAsync();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !view.Aggregates.Any(a => a.Id == "brand:maybelline") && DateTime.UtcNow < deadline; view = await user.GetAsync())
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Contains(view.Aggregates, a => a.Id == "brand:maybelline");
        Assert.Contains(view.Aggregates, a => a.Id == "category:makeup/eyes");
    }
    [Fact(Timeout = 120_000)]
    public async Task AUsersKnowledgeStoreFollowsTheSessionOnlyOnceTheUserAskedForSuggestions()
    {
        var tenant = NewTenant();
        var grains = fixture.Cluster.GrainFactory;
        await grains.GetGrain<ICatalogueGrain>(tenant).UpsertAsync([
            Item("lip-1", "OPI Red Lipstick", "OPI", "Makeup", "Lips"),
            Item("m-1", "Maybelline Mascara", "Maybelline", "Makeup", "Eyes"),
        ]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var log = new RedisClickLog(redis, new ServerPolicyBarrier());
        IUserSessionGrain Session(string user) => grains.GetGrain<IUserSessionGrain>(TenantKey.For(tenant, user));
        IUserKnowledgeGrain Knowledge(string user) => grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, user));

        // Both users browse: each event reaches the log and then the user's session grain, as the API sends it.
        foreach (var user in new[] { "searcher", "browser" })
        {
            var viewed = Evt(user + "-1", user, EventType.View, "lip-1", null, 0);
            var logged = await log.AppendAsync(tenant, [viewed]);
            await Session(user).RecordAsync([viewed], [logged[0].Sequence]);
        }

        // The searcher asks for suggestions (its store reads the log once), then browses on. A record that is not in
        // the log (its sequence lies past the log's end) can reach the store only by the session's hand-over.
        await Session("searcher").SuggestAsync(new SuggestionRequest("", [], null, 5, null, DateTimeOffset.UtcNow));
        const long PastTheLog = 1_000_000;
        await Session("searcher").RecordAsync([Evt("searcher-2", "searcher", EventType.View, "m-1", null, 1)], [PastTheLog]);
        await Session("browser").RecordAsync([Evt("browser-2", "browser", EventType.View, "m-1", null, 1)], [PastTheLog]);

        var view = await Knowledge("searcher").GetAsync();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !view.Aggregates.Any(a => a.Id == "brand:maybelline") && DateTime.UtcNow < deadline; view = await Knowledge("searcher").GetAsync())
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Contains(view.Aggregates, a => a.Id == "brand:maybelline");

        // The browser never asked: nothing woke its store (its records were handed over at the same time as the
        // searcher's, which has arrived). Asked now, the store folds what the log holds, and only that.
        Assert.Null(await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(Knowledge("browser")));
        await Session("browser").SuggestAsync(new SuggestionRequest("", [], null, 5, null, DateTimeOffset.UtcNow));
        var browser = await Knowledge("browser").GetAsync();
        Assert.Contains(browser.Aggregates, a => a.Id == "brand:opi");
        Assert.DoesNotContain(browser.Aggregates, a => a.Id == "brand:maybelline");
    }
}
