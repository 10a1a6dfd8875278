namespace SessionRec.Api.Tests;

using SessionRec.Abstractions.ClickLog;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Abstractions.Analytics;
using SessionRec.Api.Contracts;
using SessionRec.Api.Endpoints;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

public sealed class RecommendationsTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// A small world in tenant B: after "p", others chose q (3 times), r (2), s (1); t is popular; u is unavailable
    /// but chosen after p most often.
    /// </summary>
    private async Task<string> SeedAsync()
    {
        var w = Unique("w");
        string I(string x) => $"{w}-{x}";
        await api.B.PutJson("/v1/items", new { items = new[] { Http.Item(I("p")), Http.Item(I("q")), Http.Item(I("r")), Http.Item(I("s")), Http.Item(I("t")), Http.Item(I("u"), available: false) } });
        var events = new List<object>();
        var n = 0;
        void Session(params string[] items)
        {
            var user = Unique("seed");
            var at = DateTimeOffset.UtcNow.AddMinutes(-30);
            foreach (var item in items)
            {
                events.Add(Http.View($"{w}-{n++}", user, I(item), at: at = at.AddSeconds(10)));
            }
        }

        Session("p", "q"); Session("p", "q"); Session("p", "q"); Session("p", "r"); Session("p", "r"); Session("p", "s");
        Session("p", "u"); Session("p", "u"); Session("p", "u"); Session("p", "u");
        for (var i = 0; i < 8; i++)
        {
            Session("t");
        }

        var posted = await (await api.B.PostJson("/v1/events", new { events })).Read<PostEventsResponse>();
        Assert.Equal(events.Count, posted.Accepted);
        await WaitForTailAsync(I("q"));
        return w;
    }

    // The statistics builder publishes a snapshot within 200 ms of the events in tests, and replicas look for one
    // every 100 ms: wait until this world's co-occurrence is served (the newest items fill in before that).
    private async Task WaitForTailAsync(string expected)
    {
        for (var i = 0; i < 100; i++)
        {
            var recs = await (await api.B.GetAsync($"/v1/users/{Unique("probe")}/recommendations?context_item={expected.Replace("-q", "-p")}", TestContext.Current.CancellationToken)).Read<RecommendationsResponse>();
            if (recs.Items.Any(x => x.ItemId == expected && x.Source == "cooccurrence"))
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail("No statistics snapshot with the seeded events was served within 10 s.");
    }

    [Fact]
    public async Task SessionItemsDriveTheListAndUnavailableItemsAreSkipped()
    {
        var w = await SeedAsync();
        var user = Unique("u");
        await api.B.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), user, $"{w}-p") } });

        var recs = await (await api.B.GetAsync($"/v1/users/{user}/recommendations?k=4", TestContext.Current.CancellationToken)).Read<RecommendationsResponse>();

        Assert.Equal([$"{w}-q", $"{w}-r", $"{w}-s"], recs.Items.Take(3).Select(i => i.ItemId));
        Assert.Equal("cooccurrence", recs.Items[0].Source);
        Assert.Equal($"often chosen after {w}-p", recs.Items[0].Reason);
        Assert.DoesNotContain(recs.Items, i => i.ItemId == $"{w}-u" || i.ItemId == $"{w}-p");
        Assert.Equal([1, 2, 3, 4], recs.Items.Select(i => i.Position));
        Assert.Equal("baseline-cooc-1", recs.ModelVersion);
    }

    [Fact]
    public async Task ItemsBoughtInTheSessionAndExcludedItemsAreNotRecommended()
    {
        var w = await SeedAsync();
        var user = Unique("u");
        await api.B.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), user, $"{w}-p"), Http.View(Unique("e"), user, $"{w}-q", "purchase") } });

        var recs = await (await api.B.GetAsync($"/v1/users/{user}/recommendations?exclude={w}-r", TestContext.Current.CancellationToken)).Read<RecommendationsResponse>();

        var ids = recs.Items.Select(i => i.ItemId).ToList();
        Assert.DoesNotContain($"{w}-q", ids);
        Assert.DoesNotContain($"{w}-r", ids);
        Assert.Contains($"{w}-s", ids);
    }

    [Fact]
    public async Task ANewUserGetsPopularItems()
    {
        await SeedAsync();

        var recs = await (await api.B.GetAsync($"/v1/users/{Unique("new")}/recommendations?k=1", TestContext.Current.CancellationToken)).Read<RecommendationsResponse>();

        // "p" (10 views in every seeded world) is the most popular item in the tenant.
        var top = Assert.Single(recs.Items);
        Assert.Equal("popularity", top.Source);
        Assert.EndsWith("-p", top.ItemId, StringComparison.Ordinal);
        Assert.Null(recs.SessionId);
    }

    [Fact]
    public async Task EveryServedListIsLoggedAsAnImpressionWithItsRequestIdUnderAnIdClientsAreRefused()
    {
        var w = await SeedAsync();
        var user = Unique("u");

        var recs = await (await api.B.GetAsync($"/v1/users/{user}/recommendations?context_item={w}-p&k=3", TestContext.Current.CancellationToken)).Read<RecommendationsResponse>();

        // Impressions are written off the request path, within milliseconds.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(api.Redis.ConnectionString);
        IReadOnlyList<SessionRec.Abstractions.ClickLog.ClickLogRecord> log = [];
        for (var i = 0; i < 100 && !log.Any(r => r.Event.RequestId == recs.RequestId); i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            log = await new RedisClickLog(redis, new ServerPolicyBarrier()).ReadAllAsync(ApiFactory.TenantB);
        }

        var impression = Assert.Single(log, r => r.Event.RequestId == recs.RequestId).Event;
        Assert.Equal(("impression", user, "recommendations", "baseline-cooc-1"), (impression.Type.ToString().ToLowerInvariant(), impression.UserId, impression.Surface, impression.ModelVersion));
        Assert.Equal(recs.Items.Select(i => i.ItemId), impression.Shown!);

        // The impression's id is the service's (no id key remembers it): a client offering it is refused, naming the field.
        Assert.Equal("imp-" + recs.RequestId, impression.EventId);
        var posted = await (await api.B.PostJson("/v1/events", new { events = new[] { Http.View(impression.EventId, user, $"{w}-p") } })).Read<PostEventsResponse>();
        var verdict = Assert.Single(posted.Results);
        Assert.Equal("rejected", verdict.Status);
        Assert.StartsWith($"event_id '{impression.EventId}' is reserved", verdict.Reason);
        log = await new RedisClickLog(redis, new ServerPolicyBarrier()).ReadAllAsync(ApiFactory.TenantB);
        Assert.Single(log, r => r.Event.EventId == impression.EventId);
    }

    [Theory]
    [InlineData("0", "k must be at least 1; got 0.")]
    [InlineData("-1", "k must be at least 1; got -1.")]
    [InlineData("ten", "k must be a whole number between 1 and 100 (larger values are clamped to 100).")]
    [InlineData("1.5", "k must be a whole number between 1 and 100 (larger values are clamped to 100).")]
    public async Task AnInvalidKGetsAProblem(string k, string detail)
    {
        var response = await api.B.GetAsync($"/v1/users/u/recommendations?k={k}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(detail, (await response.ReadProblem()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("2147483648")]
    [InlineData("100000000000000000000000")]
    public async Task AHugeKIsClampedToTheMaximum(string k)
    {
        var response = await api.B.GetAsync($"/v1/users/u/recommendations?k={k}", TestContext.Current.CancellationToken);

        if (k.Length > 19)
        {
            // Beyond 64 bits it is not a number we read at all.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(100, (await response.Read<RecommendationsResponse>()).K);
    }

    [Fact]
    public async Task ErasingAUserLeavesNoTraceInTheSessionOrTheClickLog()
    {
        var ct = TestContext.Current.CancellationToken;
        var user = Unique("erase");

        // An earlier session (closed and added to the analytics' aggregates, its digest stored) and a live one, whose
        // recommendations show items (so it is on the analytics' worst-sessions list).
        await api.B.PutJson("/v1/items", new { items = new[] { Http.Item("a"), Http.Item("b"), Http.Item("c"), Http.Item("d"), Http.Item("e") } });
        await api.B.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), user, "c", at: DateTimeOffset.UtcNow.AddHours(-3)) } });
        await api.B.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), user, "a"), Http.View(Unique("e"), user, "b") } });
        await api.B.GetAsync($"/v1/users/{user}/recommendations", ct);
        await api.B.GetAsync($"/v1/users/{user}/suggestions", ct);
        await api.Factory.Services.GetRequiredService<ImpressionLog>().FlushAsync(ct);
        var analytics = api.Factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IAnalyticsGrain>(ApiFactory.TenantB);
        await analytics.CatchUpAsync();
        await using (var store = await ConnectionMultiplexer.ConnectAsync(api.Redis.ConnectionString))
        {
            Assert.True(await store.GetDatabase().KeyExistsAsync(RedisKeys.AnalyticsUser(ApiFactory.TenantB, user)), "the closed session's digest is stored");
        }

        var before = await (await api.B.GetAsync("/v1/analytics/sessions?worst=100", ct)).Read<AnalyticsSessionsResponse>();
        Assert.Contains(before.Worst, w => w.UserId == user);
        var knowledge = await (await api.B.GetAsync($"/v1/users/{user}/knowledge", ct)).Read<KnowledgeResponse>();
        Assert.Equal(3, knowledge.Stream.Count); // the three views, now in the stored knowledge state

        var erased = await (await api.B.DeleteAsync($"/v1/users/{user}", ct)).Read<EraseUserResponse>();

        Assert.Equal(5, erased.ClickLogRecordsErased); // three events and two impressions (recommendations, suggestions)
        var after = await (await api.B.GetAsync("/v1/analytics/sessions?worst=100", ct)).Read<AnalyticsSessionsResponse>();
        Assert.DoesNotContain(after.Worst, w => w.UserId == user);
        Assert.Equal(before.Sessions - 1, after.Sessions); // the live session's list; the earlier session had none
        Assert.Equal(before.RecordsRead - 5, after.RecordsRead);
        Assert.Empty((await (await api.B.GetAsync($"/v1/users/{user}/knowledge", ct)).Read<KnowledgeResponse>()).Stream);
        var session = await (await api.B.GetAsync($"/v1/users/{user}/session", ct)).Read<UserSessionResponse>();
        Assert.Null(session.Current);

        // A scan of every key and every stored value finds the user id nowhere.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(api.Redis.ConnectionString);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var db = redis.GetDatabase();
        foreach (var key in server.Keys(pattern: "*"))
        {
            Assert.DoesNotContain(user, key.ToString());
            var type = await db.KeyTypeAsync(key);
            var text = type switch
            {
                RedisType.Hash => string.Join("\n", (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}")),
                RedisType.String => (string?)await db.StringGetAsync(key) ?? "",
                RedisType.Set => string.Join("\n", await db.SetMembersAsync(key)),
                _ => "",
            };
            Assert.DoesNotContain(user, text);
        }
    }
}
