namespace SessionRec.Api.Tests;

using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Api.Contracts;
using SessionRec.Api.Endpoints;
using SessionRec.Silo.Embedded;
using SessionRec.TestSupport;

/// <summary>
/// A click log produced by the running service (on Kestrel, so a browser can reach it): ten users served by the
/// baseline, then a trained model activated and ten users served by it. Baseline users click the first
/// recommendation every other time (a quarter-ish buy it); model users always click it (every other one buys).
/// </summary>
public sealed class AnalyticsFixture : IAsyncLifetime
{
    public const int UsersPerVersion = 10;
    public const string Baseline = "baseline-cooc-1";
    public const string Model = "v1";

    private readonly string _models = Path.Combine(Path.GetTempPath(), "sessionrec-analytics-" + Guid.NewGuid().ToString("N"));

    public RedisServer Redis { get; private set; } = null!;

    public ApiFactory Factory { get; private set; } = null!;

    public HttpClient A { get; private set; } = null!;

    public HttpClient B { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Redis = await RedisServer.StartAsync();
        Factory = new ApiFactory(Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Models:Path"] = _models,
            ["Models:PollInterval"] = "00:00:00.200",
        });
        var port = EmbeddedGarnet.FreeLoopbackPort();
        Factory.UseKestrel(port);
        BaseUrl = $"http://localhost:{port}";
        A = Factory.ClientFor(ApiFactory.KeyA);
        B = Factory.ClientFor(ApiFactory.KeyB);

        var items = SyntheticData.Create().Items.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, attributes = i.Attributes, price = i.Price, available = true }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await A.PutJson("/v1/items", new { items })).StatusCode);

        await ServeAsync("base", Baseline, u => u % 2 == 0, u => u % 4 == 0, ct);

        TinyModel.Write(_models, ApiFactory.TenantA, Model, TinyModel.Train(seed: 1));
        Assert.Equal(HttpStatusCode.OK, (await A.PutJson("/v1/models", new { active = Model })).StatusCode);
        // A probe user waits until the model serves (its index is built in the background), then is erased:
        // its baseline lists must vanish from the analytics too. (A user with no session items gets popular items,
        // not the model, so the probe views one.)
        Assert.Equal(HttpStatusCode.OK, (await A.PostJson("/v1/events", new { events = new[] { Http.View("probe-v", "probe", "item-7") } })).StatusCode);
        for (var attempt = 0; ; attempt++)
        {
            var probe = await (await A.GetAsync("/v1/users/probe/recommendations?k=5", ct)).Read<RecommendationsResponse>();
            if (probe.ModelVersion == Model)
            {
                break;
            }

            Assert.True(attempt < 200, "the trained model never served");
            await Task.Delay(100, ct);
        }

        await ServeAsync("model", Model, _ => true, u => u % 2 == 0, ct);
        await Factory.Services.GetRequiredService<ImpressionLog>().FlushAsync(ct);

        // Analytics caches the rebuilt sessions while the log does not grow; erasing the probe (which does not grow
        // the log) must still drop it from every later answer.
        var warm = await (await A.GetAsync("/v1/analytics/sessions", ct)).Read<AnalyticsSessionsResponse>();
        Assert.Equal((2 * UsersPerVersion) + 1, warm.Sessions);
        Assert.Equal(HttpStatusCode.OK, (await A.DeleteAsync("/v1/users/probe", ct)).StatusCode);
    }

    private async Task ServeAsync(string prefix, string version, Func<int, bool> clicks, Func<int, bool> buys, CancellationToken ct)
    {
        for (var u = 0; u < UsersPerVersion; u++)
        {
            var user = $"{prefix}-{u}";
            var at = DateTimeOffset.UtcNow.AddMinutes(-2);
            var views = new[] { Http.View($"{user}-v1", user, $"item-{u * 3}", at: at), Http.View($"{user}-v2", user, $"item-{(u * 3) + 1}", at: at.AddSeconds(5)) };
            Assert.Equal(HttpStatusCode.OK, (await A.PostJson("/v1/events", new { events = views })).StatusCode);
            var list = await (await A.GetAsync($"/v1/users/{user}/recommendations?k=10", ct)).Read<RecommendationsResponse>();
            Assert.Equal(version, list.ModelVersion);
            var first = list.Items[0].ItemId;
            var feedback = new List<object>();
            if (clicks(u))
            {
                feedback.Add(new { event_id = $"{user}-c", user_id = user, type = "click", item_id = first, request_id = list.RequestId, position = 1 });
            }

            if (buys(u))
            {
                feedback.Add(new { event_id = $"{user}-p", user_id = user, type = "purchase", item_id = first, request_id = list.RequestId });
            }

            if (feedback.Count > 0)
            {
                Assert.Equal(HttpStatusCode.OK, (await A.PostJson("/v1/events", new { events = feedback })).StatusCode);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Redis.DisposeAsync();
        if (Directory.Exists(_models))
        {
            Directory.Delete(_models, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AnalyticsCollection : ICollectionFixture<AnalyticsFixture>
{
    public const string Name = "analytics";
}

[Collection(AnalyticsCollection.Name)]
public sealed class AnalyticsApiTests(AnalyticsFixture fixture)
{
    private static async Task<JsonElement> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return await response.Read<JsonElement>();
    }

    [Fact]
    public async Task PerModelAggregatesAndTheABReadoutComeFromTheServicesOwnLog()
    {
        var report = await GetAsync(fixture.A, "/v1/analytics/sessions?compare=baseline-cooc-1,v1&worst=5");

        Assert.Equal("NUM", report.GetProperty("metric").GetString());
        Assert.Equal(2 * AnalyticsFixture.UsersPerVersion, report.GetProperty("sessions").GetInt32());
        var models = report.GetProperty("by_model").EnumerateArray().ToDictionary(m => m.GetProperty("model_version").GetString()!);
        Assert.Equal([AnalyticsFixture.Baseline, AnalyticsFixture.Model], models.Keys.Order(StringComparer.Ordinal));

        var baseline = models[AnalyticsFixture.Baseline];
        Assert.Equal(10, baseline.GetProperty("sessions").GetInt32());
        Assert.Equal(0.5, baseline.GetProperty("ctr").GetDouble(), 9);
        Assert.Equal(0.5, baseline.GetProperty("hr_at_10").GetDouble(), 9);
        Assert.Equal(0.5, baseline.GetProperty("mrr").GetDouble(), 9);
        Assert.Equal(0.3, baseline.GetProperty("conversion").GetDouble(), 9);
        // A session whose one list had its clicked result first is its own ideal session: NUM 1; no click: 0.
        Assert.Equal(0.5, baseline.GetProperty("metric").GetDouble(), 9);

        var model = models[AnalyticsFixture.Model];
        Assert.Equal(1, model.GetProperty("ctr").GetDouble(), 9);
        Assert.Equal(0.5, model.GetProperty("conversion").GetDouble(), 9);
        Assert.Equal(1, model.GetProperty("metric").GetDouble(), 9);

        var comparison = report.GetProperty("comparison");
        Assert.Equal(0.5, comparison.GetProperty("difference").GetDouble(), 9);
        Assert.True(comparison.GetProperty("low").GetDouble() > 0);
        Assert.True(comparison.GetProperty("high").GetDouble() <= 1);

        var days = report.GetProperty("by_day").EnumerateArray().ToList();
        Assert.Equal(20, days.Sum(d => d.GetProperty("sessions").GetInt32()));
        var worst = report.GetProperty("worst").EnumerateArray().ToList();
        Assert.Equal(5, worst.Count);
        Assert.All(worst, w => Assert.Equal(0, w.GetProperty("metric").GetDouble()));
        Assert.All(worst, w => Assert.Equal(AnalyticsFixture.Baseline, w.GetProperty("model_version").GetString()));
        Assert.DoesNotContain(worst, w => w.GetProperty("user_id").GetString() == "probe");
    }

    [Fact]
    public async Task FiltersSelectSurfacesAndVersionsAndOtherMetricsCanBeAsked()
    {
        var onlyModel = await GetAsync(fixture.A, "/v1/analytics/sessions?model=v1");
        Assert.Equal(10, onlyModel.GetProperty("sessions").GetInt32());
        var suggestions = await GetAsync(fixture.A, "/v1/analytics/sessions?surface=suggestions");
        Assert.Equal(0, suggestions.GetProperty("sessions").GetInt32());
        var future = await GetAsync(fixture.A, $"/v1/analytics/sessions?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(1).ToString("O"))}");
        Assert.Equal(0, future.GetProperty("sessions").GetInt32());
        var srbp = await GetAsync(fixture.A, "/v1/analytics/sessions?metric=sRBP");
        Assert.Equal("sRBP", srbp.GetProperty("metric").GetString());
        Assert.Contains("nsDCG", srbp.GetProperty("metrics").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task OneSessionsTimelineShowsItsListsAndFeedback()
    {
        var report = await GetAsync(fixture.A, "/v1/analytics/sessions?model=v1&worst=100");
        var buyer = report.GetProperty("worst").EnumerateArray().Single(w => w.GetProperty("user_id").GetString() == "model-0");
        var id = buyer.GetProperty("session_id").GetString()!;
        var session = await GetAsync(fixture.A, "/v1/analytics/sessions/" + Uri.EscapeDataString(id));

        Assert.Equal(["view", "view", "impression", "click", "purchase"], session.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        var list = Assert.Single(session.GetProperty("lists").EnumerateArray());
        Assert.Equal(10, list.GetProperty("shown").GetArrayLength());
        Assert.Equal([1, 1], list.GetProperty("feedback").EnumerateArray().Select(f => f.GetProperty("position").GetInt32()));
        Assert.Equal(1, session.GetProperty("metrics").GetProperty("NUM").GetDouble(), 9);
    }

    [Theory]
    [InlineData("/v1/analytics/sessions?metric=nDCG@7", "Unknown metric")]
    [InlineData("/v1/analytics/sessions?compare=v1", "Invalid compare")]
    [InlineData("/v1/analytics/sessions?compare=v1,v1", "Invalid compare")]
    [InlineData("/v1/analytics/sessions?worst=1000", "Invalid worst")]
    [InlineData("/v1/analytics/sessions?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "Invalid time range")]
    [InlineData("/v1/analytics/sessions/no-sequence", "Invalid session id")]
    public async Task BadQueriesGetAProblemSayingWhatWasWrong(string url, string title)
    {
        var response = await fixture.A.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(title, (await response.ReadProblem()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task AnotherTenantSeesNoneOfItAndAnUnknownSessionIs404()
    {
        var other = await GetAsync(fixture.B, "/v1/analytics/sessions");
        Assert.Equal(0, other.GetProperty("sessions").GetInt32());
        Assert.Equal(0, other.GetProperty("by_model").GetArrayLength());
        var report = await GetAsync(fixture.A, "/v1/analytics/sessions?worst=1");
        var id = report.GetProperty("worst")[0].GetProperty("session_id").GetString()!;
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.B.GetAsync("/v1/analytics/sessions/" + Uri.EscapeDataString(id), TestContext.Current.CancellationToken)).StatusCode);
        using var anonymous = fixture.Factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/analytics/sessions", TestContext.Current.CancellationToken)).StatusCode);
    }
}
