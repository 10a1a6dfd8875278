namespace SessionRec.Api.Tests;

using SessionRec.Abstractions.ClickLog;
using System.Net;
using System.Text;
using SessionRec.Api.Contracts;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

public sealed class EventsTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private async Task<List<string>> LoggedEventIds(string tenant)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(api.Redis.ConnectionString);
        var records = await new RedisClickLog(redis, new ServerPolicyBarrier()).ReadAllAsync(tenant);
        return records.Select(r => r.Event.EventId).ToList();
    }

    [Fact]
    public async Task AMixedBatchGetsAVerdictPerEventAndOnlyValidEventsAreLogged()
    {
        var user = Unique("u");
        var ok = Unique("ok");
        var now = DateTimeOffset.UtcNow;
        var response = await api.A.PostJson("/v1/events", new
        {
            events = new object?[]
            {
                Http.View(ok, user, "a"),
                Http.View(ok, user, "a"),
                new { event_id = Unique("bad"), user_id = user, type = "teleport", item_id = "a" },
                new { event_id = Unique("bad"), user_id = user, type = "view" },
                new { user_id = user, type = "view", item_id = "a" },
                new { event_id = Unique("bad"), type = "view", item_id = "a" },
                new { event_id = Unique("bad"), user_id = user, type = "view", item_id = "a", timestamp = now.AddYears(-3) },
                new { event_id = Unique("bad"), user_id = user, type = "view", item_id = "a", timestamp = now.AddDays(2) },
                new { event_id = Unique("bad"), user_id = user, type = "search", query = "" },
                new { event_id = Unique("bad"), user_id = "bad\u0001id", type = "view", item_id = "a" },
                null,
            },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Read<PostEventsResponse>();
        Assert.Equal((1, 1, 9), (body.Accepted, body.Duplicates, body.Rejected));
        Assert.Equal(["accepted", "duplicate"], body.Results.Take(2).Select(r => r.Status));
        Assert.All(body.Results.Skip(2), r => Assert.Equal("rejected", r.Status));
        Assert.Contains("Unknown event type 'teleport'", body.Results[2].Reason);
        Assert.Contains("needs an item", body.Results[3].Reason);
        Assert.Contains("event_id is required", body.Results[4].Reason);
        Assert.Contains("user_id is required", body.Results[5].Reason);
        Assert.Contains("older than", body.Results[6].Reason);
        Assert.Contains("in the future", body.Results[7].Reason);
        Assert.Contains("search event needs a non-empty query", body.Results[8].Reason);
        Assert.Contains("control character", body.Results[9].Reason);

        var logged = await LoggedEventIds(ApiFactory.TenantA);
        Assert.Single(logged, id => id == ok);
        Assert.DoesNotContain(logged, id => id.StartsWith("bad", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AcceptedEventsShowInTheUsersSession()
    {
        var user = Unique("u");
        await api.A.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), user, "a"), Http.View(Unique("e"), user, "b", "add_to_cart") } });

        var session = await (await api.A.GetAsync($"/v1/users/{user}/session", TestContext.Current.CancellationToken)).Read<UserSessionResponse>();

        Assert.Equal(["view", "add_to_cart"], session.Current!.Events.Select(e => e.Type));
    }

    [Theory]
    [InlineData("{\"events\": []}", 400, "No events")]
    [InlineData("{}", 400, "No events")]
    [InlineData("{\"events\": [", 400, "Malformed JSON body")]
    [InlineData("[1,2,3]", 400, "Malformed JSON body")]
    [InlineData("{\"events\": [{\"event_id\": 5}]}", 400, "Malformed JSON body")]
    [InlineData("{\"evnts\": []}", 400, "Malformed JSON body")]
    public async Task MalformedBodiesGetAProblemSayingWhatIsWrong(string json, int status, string title)
    {
        var response = await api.A.PostAsync("/v1/events", new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(status, (int)response.StatusCode);
        var problem = await response.ReadProblem();
        Assert.Equal(title, problem.GetProperty("title").GetString());

        // The detail names the field, never a .NET type.
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain("SessionRec.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
        if (json.Contains("evnts", StringComparison.Ordinal))
        {
            Assert.Contains("Unknown field 'evnts'", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DeeplyNestedBodiesAreRefused()
    {
        var json = "{\"events\": " + new string('[', 5_000) + new string(']', 5_000) + "}";

        var response = await api.A.PostAsync("/v1/events", new StringContent(json, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Malformed JSON body", (await response.ReadProblem()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task InvalidUtf8IsRefused()
    {
        var prefix = Encoding.UTF8.GetBytes("{\"events\": [{\"event_id\": \"");
        var suffix = Encoding.UTF8.GetBytes("\", \"user_id\": \"u\", \"type\": \"view\", \"item_id\": \"a\"}]}");
        var body = new ByteArrayContent([.. prefix, 0xC3, 0x28, 0xFF, .. suffix]);
        body.Headers.ContentType = new("application/json");

        var response = await api.A.PostAsync("/v1/events", body, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Malformed JSON body", (await response.ReadProblem()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task BatchesOverTheLimitAreRefusedWhole()
    {
        var user = Unique("u");
        var events = Enumerable.Range(0, 1_001).Select(i => Http.View($"{user}-{i}", user, "a")).ToArray();

        var response = await api.A.PostJson("/v1/events", new { events });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("At most 1000 events", (await response.ReadProblem()).GetProperty("detail").GetString());
        Assert.DoesNotContain(await LoggedEventIds(ApiFactory.TenantA), id => id.StartsWith(user, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A100kElementBatchIsRefusedByTheBodyLimitBeforeItIsRead()
    {
        var sb = new StringBuilder("{\"events\": [");
        for (var i = 0; i < 100_000; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("{\"event_id\":\"e").Append(i).Append("\",\"user_id\":\"u\",\"type\":\"view\",\"item_id\":\"a\"}");
        }

        sb.Append("]}");
        var response = await api.A.PostAsync("/v1/events", new StringContent(sb.ToString(), Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("Request body too large", (await response.ReadProblem()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task ItemBatchesWithABadItemAreRefusedWhole()
    {
        var good = Unique("good");
        var response = await api.A.PutJson("/v1/items", new { items = new object[] { Http.Item(good), new { title = "no id" }, new { id = "neg", price = -1 } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblem();
        Assert.Equal("id is required.", problem.GetProperty("errors").GetProperty("items[1]")[0].GetString());
        Assert.Equal("price must not be negative.", problem.GetProperty("errors").GetProperty("items[2]")[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.A.GetAsync($"/v1/items/{good}", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task ItemsRoundTripAndCanBeDeleted()
    {
        var ct = TestContext.Current.CancellationToken;
        var id = Unique("it");
        await api.A.PutJson("/v1/items", new
        {
            items = new[] { new { id, title = "Red lipstick", brand = "OPI", categories = new[] { "Makeup", "Lips" }, attributes = new Dictionary<string, string> { ["colour"] = "red" }, price = 9.5m, available = true } },
        });

        var item = await (await api.A.GetAsync($"/v1/items/{id}", ct)).Read<ItemResponse>();
        Assert.Equal(("Red lipstick", "OPI", 9.5m, "red"), (item.Title, item.Brand, item.Price!.Value, item.Attributes["colour"]));
        Assert.Equal(["Makeup", "Lips"], item.Categories);

        Assert.Equal(HttpStatusCode.NoContent, (await api.A.DeleteAsync($"/v1/items/{id}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.A.GetAsync($"/v1/items/{id}", ct)).StatusCode);
    }

    [Fact]
    public async Task MetricsCountEventsByVerdict()
    {
        var ct = TestContext.Current.CancellationToken;
        await api.A.PostJson("/v1/events", new { events = new object[] { Http.View(Unique("m"), "m-user", "a"), new { event_id = Unique("m"), user_id = "m-user", type = "nope" } } });
        using var anonymous = api.Factory.CreateClient();

        var metrics = await anonymous.GetStringAsync("/metrics", ct);

        Assert.Contains("sessionrec_events_accepted_total", metrics);
        Assert.Contains("sessionrec_events_rejected_total", metrics);
        Assert.Contains("http_server_request_duration_seconds", metrics);
    }
}
