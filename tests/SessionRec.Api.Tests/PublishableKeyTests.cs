namespace SessionRec.Api.Tests;

using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;

/// <summary>
/// A publishable key is made to sit in a web page's source, so it opens only what a storefront needs: posting events
/// and reading recommendations, suggestions and catalogue items. Every other route — read from the application's
/// endpoint data source, so a new one is covered without anyone listing it — refuses it with 403.
/// </summary>
public sealed class PublishableKeyTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static readonly string[] StorefrontRoutes =
    [
        "GET /v1/items",
        "GET /v1/items/x",
        "GET /v1/users/x/recommendations",
        "GET /v1/users/x/suggestions",
        "POST /v1/events",
    ];

    [Fact(Timeout = 120_000)]
    public async Task APublishableKeyOpensTheStorefrontRoutesAndNoOther()
    {
        var ct = TestContext.Current.CancellationToken;
        var key = await CreatePublishableKeyAsync(ApiFactory.TenantA, ct);
        Assert.StartsWith("srp_", key, StringComparison.Ordinal);
        using var browser = api.Factory.ClientFor(key);

        var routes = api.Factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("v1/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (
                Route: $"{m} /" + System.Text.RegularExpressions.Regex.Replace(e.RoutePattern.RawText!.TrimStart('/').TrimEnd('/'), @"\{[^}]+\}", "x"),
                Open: e.Metadata.GetMetadata<PublishableKeyAllowed>() is not null)))
            .Distinct().ToList();

        // The routes open to browsers are exactly these: opening another one is a decision a test has to record.
        Assert.Equal(StorefrontRoutes, routes.Where(r => r.Open).Select(r => r.Route).Order(StringComparer.Ordinal));
        Assert.Contains(routes, r => r.Route == "GET /v1/clicklog");
        Assert.Contains(routes, r => r.Route == "DELETE /v1/users/x");

        var wrong = new List<string>();
        foreach (var (route, open) in routes)
        {
            var (method, path) = (route.Split(' ')[0], route.Split(' ')[1]);
            using var request = new HttpRequestMessage(new HttpMethod(method), path + (path == "/v1/items" ? "?ids=x" : ""))
            {
                Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
            };
            var response = await browser.SendAsync(request, ct);
            var refused = response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized;
            if (open == refused)
            {
                wrong.Add($"{route} → {(int)response.StatusCode}");
            }
            else if (refused)
            {
                Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                var detail = (await response.ReadProblem()).GetProperty("detail").GetString();
                Assert.Contains(path.StartsWith("/v1/admin/", StringComparison.Ordinal) ? "admin key" : "publishable key", detail, StringComparison.Ordinal);
            }
        }

        Assert.Empty(wrong);
    }

    [Fact(Timeout = 120_000)]
    public async Task APublishableKeyPostsEventsAndReadsItsTenantsRecommendationsOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        using var browser = api.Factory.ClientFor(await CreatePublishableKeyAsync(ApiFactory.TenantA, ct));
        Assert.Equal(HttpStatusCode.OK, (await api.A.PutJson("/v1/items", new { items = new[] { Http.Item("pk-a", "OPI"), Http.Item("pk-b") } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.B.PutJson("/v1/items", new { items = new[] { Http.Item("pk-other") } })).StatusCode);

        var posted = await (await browser.PostJson("/v1/events", new { events = new[] { Http.View("pk-e1", "pk-shopper", "pk-a") } })).Read<PostEventsResponse>();
        Assert.Equal(1, posted.Accepted);
        var recs = await browser.GetAsync("/v1/users/pk-shopper/recommendations?k=3", ct);
        Assert.Equal(HttpStatusCode.OK, recs.StatusCode);

        // Items of its own tenant, in the order asked, unknown and other tenants' ids left out.
        var items = await (await browser.GetAsync("/v1/items?ids=pk-b,pk-other,pk-a", ct)).Read<ItemsResponse>();
        Assert.Equal(["pk-b", "pk-a"], items.Items.Select(i => i.Id));

        // Writing the catalogue, reading the log or a user's session and erasing are refused, and change nothing.
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.PutJson("/v1/items", new { items = new[] { Http.Item("pk-c") } })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.A.GetAsync("/v1/items/pk-c", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/v1/clicklog", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/v1/users/pk-shopper/session", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.DeleteAsync("/v1/users/pk-shopper", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/v1/admin/keys", ct)).StatusCode);
        var session = await (await api.A.GetAsync("/v1/users/pk-shopper/session", ct)).Read<UserSessionResponse>();
        Assert.Equal(["pk-a"], session.Current!.Events.Select(e => e.ItemId));
    }

    [Fact(Timeout = 60_000)]
    public async Task TheAdminApiCreatesAndListsPublishableKeysAndRefusesAnUnknownScope()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = api.Factory.ClientFor(ApiFactory.AdminKey);

        var bad = await admin.PostJson("/v1/admin/keys", new { tenant = "pk-tenant", scope = "everything" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("scope must be", (await bad.ReadProblem()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var created = await (await admin.PostJson("/v1/admin/keys", new { tenant = "pk-tenant", name = "web", scope = "publishable" })).Read<CreatedKeyResponse>();
        Assert.Equal("publishable", created.Scope);
        var listed = await (await admin.GetAsync("/v1/admin/keys?tenant=pk-tenant", ct)).Read<KeysResponse>();
        Assert.Equal([("web", "publishable")], listed.Keys.Select(k => (k.Name, k.Scope)));
        var secret = await (await admin.PostJson("/v1/admin/keys", new { tenant = "pk-tenant", name = "server" })).Read<CreatedKeyResponse>();
        Assert.Equal(("secret", true), (secret.Scope, secret.Key.StartsWith("sr_", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60_000)]
    public async Task ItemsByIdNameTheFieldTheyRefuse()
    {
        var ct = TestContext.Current.CancellationToken;

        var none = await api.A.GetAsync("/v1/items", ct);
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Contains("ids", (await none.ReadProblem()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var many = await api.A.GetAsync("/v1/items?ids=" + string.Join(',', Enumerable.Range(0, 101).Select(i => $"i{i}")), ct);
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.Contains("at most 100", (await many.ReadProblem()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task BrowsersOnConfiguredOriginsMayCallTheStorefrontRoutesOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new ApiFactory(api.Redis.ConnectionString, new Dictionary<string, string?> { ["Api:CorsOrigins:0"] = "https://shop.example" });
        using var http = factory.CreateClient();

        async Task<HttpResponseMessage> PreflightAsync(string path, string origin, string method)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, path);
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", method);
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return await http.SendAsync(request, ct);
        }

        static string? AllowedOrigin(HttpResponseMessage response) =>
            response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;

        var events = await PreflightAsync("/v1/events", "https://shop.example", "POST");
        Assert.True(events.IsSuccessStatusCode, $"preflight answered {(int)events.StatusCode}");
        Assert.Equal("https://shop.example", AllowedOrigin(events));
        Assert.Equal("https://shop.example", AllowedOrigin(await PreflightAsync("/v1/users/u/suggestions?q=li", "https://shop.example", "GET")));
        Assert.Null(AllowedOrigin(await PreflightAsync("/v1/events", "https://elsewhere.example", "POST")));
        Assert.Null(AllowedOrigin(await PreflightAsync("/v1/clicklog", "https://shop.example", "GET")));
        Assert.Null(AllowedOrigin(await PreflightAsync("/v1/items", "https://shop.example", "PUT")));

        using var browser = factory.ClientFor(await CreatePublishableKeyAsync(ApiFactory.TenantA, ct, factory));
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/users/cors-shopper/recommendations");
        get.Headers.Add("Origin", "https://shop.example");
        var recs = await browser.SendAsync(get, ct);
        Assert.Equal(HttpStatusCode.OK, recs.StatusCode);
        Assert.Equal("https://shop.example", AllowedOrigin(recs));
    }

    [Fact(Timeout = 120_000)]
    public async Task APublishableKeyHasItsOwnRateLimitPerAddress()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new ApiFactory(api.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Api:PublishableRateLimitPerSecond"] = "1",
            ["Api:PublishableRateLimitBurst"] = "2",
        });
        using var browser = factory.ClientFor(await CreatePublishableKeyAsync(ApiFactory.TenantA, ct, factory));
        using var server = factory.ClientFor(ApiFactory.KeyA);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await browser.GetAsync("/v1/items?ids=x", ct)).StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var limited = await browser.GetAsync("/v1/items?ids=x", ct);
        Assert.True(limited.Headers.RetryAfter is not null);
        Assert.Contains("publishable key", (await limited.ReadProblem()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The tenant's secret key keeps its own, larger budget.
        Assert.Equal(HttpStatusCode.OK, (await server.GetAsync("/v1/items?ids=x", ct)).StatusCode);
    }

    private async Task<string> CreatePublishableKeyAsync(string tenant, CancellationToken ct, ApiFactory? factory = null)
    {
        using var admin = (factory ?? api.Factory).ClientFor(ApiFactory.AdminKey);
        var response = await admin.PostJson("/v1/admin/keys", new { tenant, name = "storefront", scope = "publishable" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Read<CreatedKeyResponse>()).Key;
    }
}
