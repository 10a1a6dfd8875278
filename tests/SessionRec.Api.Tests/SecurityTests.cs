namespace SessionRec.Api.Tests;

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Api.Contracts;

public sealed class SecurityTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    public static TheoryData<string, string> DataRoutes => new()
    {
        { "PUT", "/v1/items" },
        { "GET", "/v1/items/a" },
        { "DELETE", "/v1/items/a" },
        { "POST", "/v1/events" },
        { "GET", "/v1/users/u/session" },
        { "GET", "/v1/users/u/recommendations" },
        { "DELETE", "/v1/users/u" },
        { "GET", "/v1/clicklog" },
        { "GET", "/v1/models" },
        { "PUT", "/v1/models" },
        { "GET", "/v1/analytics/sessions" },
        { "GET", "/v1/users/u/suggestions" },
        { "GET", "/v1/users/u/knowledge" },
        { "GET", "/v1/analytics/sessions/u@1" },
    };

    [Theory]
    [MemberData(nameof(DataRoutes))]
    public async Task EveryDataRouteRefusesRequestsWithoutAKey(string method, string path)
    {
        using var client = api.Factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Missing or unknown API key", (await response.ReadProblem()).GetProperty("title").GetString());
    }

    /// <summary>
    /// Every route the application maps under /v1, read from its endpoint data source (so a new endpoint without
    /// auth fails here without anyone listing it), refuses a request without a key.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task EveryMappedV1EndpointRefusesRequestsWithoutAKey()
    {
        var sources = api.Factory.Services.GetServices<Microsoft.AspNetCore.Routing.EndpointDataSource>();
        var routes = sources.SelectMany(s => s.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Method: m, Path: "/" + System.Text.RegularExpressions.Regex.Replace(e.RoutePattern.RawText!.TrimStart('/'), @"\{[^}]+\}", "x"))))
            .Distinct().ToList();
        Assert.True(routes.Count >= DataRoutes.Count, $"only {routes.Count} routes found under /v1");
        Assert.Contains(("GET", "/v1/users/x/suggestions"), routes);

        using var client = api.Factory.CreateClient();
        var open = new List<string>();
        foreach (var (method, path) in routes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                open.Add($"{method} {path} → {(int)response.StatusCode}");
            }
        }

        Assert.Empty(open);
    }

    [Theory]
    [MemberData(nameof(DataRoutes))]
    public async Task EveryDataRouteRefusesAnUnknownKey(string method, string path)
    {
        using var client = api.Factory.ClientFor("not-a-key");
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/scalar/v1")]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/dashboard.js")]
    [InlineData("/demo/")]
    [InlineData("/demo/sessionrec.js")]
    public async Task HealthAndTheApiReferenceNeedNoKey(string path)
    {
        using var client = api.Factory.CreateClient();

        var response = await client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryRoute()
    {
        using var client = api.Factory.CreateClient();

        var doc = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        foreach (var route in new[] { "/v1/items", "/v1/items/{id}", "/v1/events", "/v1/users/{id}/session", "/v1/users/{id}/recommendations", "/v1/users/{id}", "/v1/clicklog", "/v1/models", "/v1/analytics/sessions", "/v1/analytics/sessions/{id}", "/v1/users/{id}/suggestions", "/v1/users/{id}/knowledge" })
        {
            Assert.Contains($"\"{route}\"", doc);
        }
    }

    [Fact]
    public async Task TheOpenApiDocumentDeclaresTheBearerKeyAndEachTagOnce()
    {
        using var client = api.Factory.CreateClient();

        using var doc = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken));

        var scheme = doc.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(doc.RootElement.GetProperty("security")[0].TryGetProperty("apiKey", out _));

        // The reference page lists schemas under "Models": a tag of that name read as a second "Models".
        var tags = doc.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Equal(tags.Count, tags.Distinct().Count());
        Assert.DoesNotContain("Models", tags);
        Assert.Contains("Model versions", tags);
    }

    [Fact]
    public async Task AnOverlongRequestTargetGetsA414Problem()
    {
        var response = await api.A.GetAsync("/v1/items/" + new string('x', 9_000), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        var problem = await response.ReadProblem();
        Assert.Equal("Request target too long", problem.GetProperty("title").GetString());
        Assert.Contains("limit is 8192", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ATenantCannotReadOrChangeAnotherTenantsData()
    {
        var ct = TestContext.Current.CancellationToken;
        var user = "shared-user-" + Guid.NewGuid().ToString("N")[..6];
        var item = "a-only-" + Guid.NewGuid().ToString("N")[..6];
        var other = item + "-2";
        await api.A.PutJson("/v1/items", new { items = new[] { Http.Item(item), Http.Item(other) } });
        await api.A.PostJson("/v1/events", new { events = new[] { Http.View("x1", user, item), Http.View("x2", user, other) } });

        // Items: B sees none of A's, and cannot delete them.
        Assert.Equal(HttpStatusCode.NotFound, (await api.B.GetAsync($"/v1/items/{item}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.B.DeleteAsync($"/v1/items/{item}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.A.GetAsync($"/v1/items/{item}", ct)).StatusCode);

        // Sessions: the same user id in B is another person.
        var session = await (await api.B.GetAsync($"/v1/users/{user}/session", ct)).Read<UserSessionResponse>();
        Assert.Null(session.Current);

        // Events: the same event id in B is another event.
        var posted = await (await api.B.PostJson("/v1/events", new { events = new[] { Http.View("x1", user, "b-item") } })).Read<PostEventsResponse>();
        Assert.Equal(1, posted.Accepted);

        // Recommendations: B's are built from B's data only.
        var recs = await (await api.B.GetAsync($"/v1/users/{user}/recommendations?context_item={item}", ct)).Read<RecommendationsResponse>();
        Assert.DoesNotContain(recs.Items, i => i.ItemId == other);

        // Click log: B reads only B's records.
        var log = await (await api.B.GetAsync("/v1/clicklog?limit=5000", ct)).Read<ClickLogPageResponse>();
        Assert.DoesNotContain(log.Records, r => r.EventId == "x2");
        Assert.Equal("b-item", Assert.Single(log.Records, r => r.EventId == "x1").ItemId);

        // Erasure in B leaves A's user alone.
        await api.B.DeleteAsync($"/v1/users/{user}", ct);
        var inA = await (await api.A.GetAsync($"/v1/users/{user}/session", ct)).Read<UserSessionResponse>();
        Assert.Equal(2, inA.Current!.Events.Count);
    }

    [Fact]
    public async Task ClientsCannotSetServerOwnedFields()
    {
        var response = await api.A.PostJson("/v1/events", new
        {
            events = new[] { new { event_id = "s1", user_id = "u", type = "view", item_id = "a", received_at = DateTimeOffset.UtcNow, model_version = "forged" } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("received_at", (await response.ReadProblem()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheRateLimitAnswers429WithRetryAfter()
    {
        await using var limited = new ApiFactory(api.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Api:RateLimitPerSecond"] = "1",
            ["Api:RateLimitBurst"] = "3",
        });
        using var client = limited.ClientFor(ApiFactory.KeyA);
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 10; i++)
        {
            responses.Add(await client.GetAsync("/v1/items/none", TestContext.Current.CancellationToken));
        }

        // A burst of 3, refilled at 1 per second: a slow machine may earn a token or two during the loop.
        var served = responses.Count(r => r.StatusCode == HttpStatusCode.NotFound);
        Assert.InRange(served, 3, 5);
        Assert.Equal(10 - served, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        var last = responses.Last(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(last.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("Too many requests", (await last.ReadProblem()).GetProperty("title").GetString());

        // Another tenant's key has its own bucket.
        using var other = limited.ClientFor(ApiFactory.KeyB);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/v1/items/none", TestContext.Current.CancellationToken)).StatusCode);
    }

    public static TheoryData<string, string> RoutesWithIds => new()
    {
        { "GET", "/v1/items/{0}" },
        { "DELETE", "/v1/items/{0}" },
        { "GET", "/v1/users/{0}/session" },
        { "GET", "/v1/users/{0}/recommendations" },
        { "DELETE", "/v1/users/{0}" },
    };

    [Theory]
    [MemberData(nameof(RoutesWithIds))]
    public async Task InvalidIdsInThePathGetAProblem(string method, string template)
    {
        foreach (var id in new[] { "bad%01id", new string('x', 300) })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, template, id));

            var response = await api.A.SendAsync(request, TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("Invalid", (await response.ReadProblem()).GetProperty("title").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("context_item=bad%01", "Invalid context_item")]
    [InlineData("exclude=a,bad%01", "Invalid exclude")]
    public async Task InvalidRecommendationParametersGetAProblem(string query, string title)
    {
        var response = await api.A.GetAsync($"/v1/users/u/recommendations?{query}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(title, (await response.ReadProblem()).GetProperty("title").GetString());
    }
}
