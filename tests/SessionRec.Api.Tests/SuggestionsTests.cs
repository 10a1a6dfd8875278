namespace SessionRec.Api.Tests;

using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Api.Contracts;

/// <summary>
/// Suggestions in the embedded-default shape (no LLM): completion over the tenant's searches, entity-grounded
/// queries from the catalogue's graph, personalisation by the user's knowledge store; the transparency view;
/// suggestion clicks attributed in the analytics.
/// </summary>
public sealed class SuggestionsTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static object Search(string id, string user, string query, DateTimeOffset at) =>
        new { event_id = id, user_id = user, type = "search", query, timestamp = at };

    private async Task SeedAsync(HttpClient client, string tenant, string prefix)
    {
        var items = new object[]
        {
            new { id = $"{prefix}lip-1", title = "OPI Red Matte Lipstick", brand = "OPI", categories = new[] { "Makeup", "Lips", "Lipstick" } },
            new { id = $"{prefix}lip-2", title = "Maybelline Nude Lipstick", brand = "Maybelline", categories = new[] { "Makeup", "Lips", "Lipstick" } },
            new { id = $"{prefix}nail-1", title = "Essie Nail Polish Red", brand = "Essie", categories = new[] { "Makeup", "Nails", "Nail Polish" } },
            new { id = $"{prefix}nail-2", title = "OPI Nail Polish Pink", brand = "OPI", categories = new[] { "Makeup", "Nails", "Nail Polish" } },
        };
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/items", new { items })).StatusCode);
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        var events = new List<object>();
        for (var u = 0; u < 4; u++)
        {
            events.Add(Search($"{prefix}s{u}a", $"{prefix}crowd{u}", "lipstick", at.AddMinutes(u)));
            events.Add(Search($"{prefix}s{u}b", $"{prefix}crowd{u}", "red lipstick", at.AddMinutes(u).AddSeconds(20)));
            events.Add(Search($"{prefix}s{u}c", $"{prefix}crowd{u}", "nail polish", at.AddMinutes(u).AddSeconds(40)));
        }

        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/v1/events", new { events })).StatusCode);

        // Others' searches are offered once the query log's next snapshot reaches the replicas: have it published
        // and loaded now rather than poll (a poll's own suggestion lists would count in the analytics).
        await api.Factory.Services.GetRequiredService<IGrainFactory>().GetGrain<ISuggestionGrain>(tenant).CatchUpAsync();
    }

    [Fact]
    public async Task SuggestionsCompleteThePrefixAndFollowTheUsersKnowledge()
    {
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(api.A, ApiFactory.TenantA, "t1-");
        var now = DateTimeOffset.UtcNow;
        var mine = new object[]
        {
            Search("t1-alice-1", "alice", "OPI", now.AddMinutes(-3)),
            Http.View("t1-alice-2", "alice", "t1-nail-2", at: now.AddMinutes(-2)),
            new { event_id = "t1-alice-3", user_id = "alice", type = "purchase", item_id = "t1-nail-2", timestamp = now.AddMinutes(-1) },
        };
        Assert.Equal(HttpStatusCode.OK, (await api.A.PostJson("/v1/events", new { events = mine })).StatusCode);

        var typed = await (await api.A.GetAsync("/v1/users/bob/suggestions?q=n&k=5", ct)).Read<SuggestionsResponse>();
        Assert.StartsWith("s-", typed.RequestId, StringComparison.Ordinal);
        Assert.NotEmpty(typed.Suggestions);
        Assert.All(typed.Suggestions, s => Assert.StartsWith("n", s.Text, StringComparison.OrdinalIgnoreCase));
        var polish = Assert.Single(typed.Suggestions, s => s.Text == "nail polish");
        Assert.Equal("completion", polish.Source);
        Assert.Equal(Enumerable.Range(1, typed.Suggestions.Count), typed.Suggestions.Select(s => s.Position));

        // Alice searched for OPI and bought an OPI polish: before typing, her list is grounded in OPI.
        var alice = await (await api.A.GetAsync("/v1/users/alice/suggestions", ct)).Read<SuggestionsResponse>();
        var opi = alice.Suggestions.Where(s => s.Entities.Any(e => e.Id == "brand:opi")).ToList();
        Assert.NotEmpty(opi);
        Assert.Contains(alice.Suggestions, s => s.Rationale.StartsWith("you ", StringComparison.Ordinal));
        var bob = await (await api.A.GetAsync("/v1/users/bob/suggestions", ct)).Read<SuggestionsResponse>();
        Assert.DoesNotContain(bob.Suggestions, s => s.Rationale.StartsWith("you ", StringComparison.Ordinal));
        Assert.Equal(["lipstick", "nail polish", "red lipstick"], bob.Suggestions.Take(3).Select(s => s.Text).Order(StringComparer.Ordinal));

        // What the service believes alice cares about.
        var knowledge = await (await api.A.GetAsync("/v1/users/alice/knowledge", ct)).Read<KnowledgeResponse>();
        var brand = Assert.Single(knowledge.Entities, e => e.Id == "brand:opi");
        Assert.Equal(new Dictionary<string, int> { ["searched"] = 1, ["viewed"] = 1, ["bought"] = 1 }, brand.BySource);
        Assert.Equal(["bought", "viewed", "searched"], knowledge.Stream.Select(r => r.Source));
        Assert.Equal("OPI Nail Polish Pink", knowledge.Stream[0].Text);
        Assert.Contains(knowledge.Entities, e => e.Id == "category:makeup/nails/nail polish");

        // Another tenant's alice is someone else.
        Assert.Empty((await (await api.B.GetAsync("/v1/users/alice/knowledge", ct)).Read<KnowledgeResponse>()).Entities);
    }

    [Fact]
    public async Task ASuggestionClickIsAttributedToTheServedList()
    {
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(api.B, ApiFactory.TenantB, "t2-");
        var list = await (await api.B.GetAsync("/v1/users/carol/suggestions?q=re", ct)).Read<SuggestionsResponse>();
        var picked = list.Suggestions[0];
        var click = new { event_id = "t2-carol-click", user_id = "carol", type = "suggestion_click", query = picked.Text, request_id = list.RequestId, position = picked.Position };
        Assert.Equal(HttpStatusCode.OK, (await api.B.PostJson("/v1/events", new { events = new[] { click } })).StatusCode);

        await api.Factory.Services.GetRequiredService<SessionRec.Api.Endpoints.ImpressionLog>().FlushAsync(ct); // written off the request path
        var report = await (await api.B.GetAsync("/v1/analytics/sessions?surface=suggestions", ct)).Read<JsonElement>();
        var row = Assert.Single(report.GetProperty("by_model").EnumerateArray());
        Assert.Equal("suggest-kg-1", row.GetProperty("model_version").GetString());
        Assert.Equal(1, row.GetProperty("ctr").GetDouble(), 9);
        Assert.Equal(1, row.GetProperty("mrr").GetDouble(), 9);
    }

    [Theory]
    [InlineData("/v1/users/u/suggestions?k=0", "Invalid k")]
    [InlineData("/v1/users/u/suggestions?k=many", "Invalid k")]
    [InlineData("/v1/users/u/suggestions?context_item=", "Invalid context_item")]
    public async Task BadSuggestionRequestsGetAProblem(string url, string title)
    {
        var response = await api.A.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(title, (await response.ReadProblem()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task ATooLongPrefixIsRefusedAndAHugeKIsClamped()
    {
        var ct = TestContext.Current.CancellationToken;
        var response = await api.A.GetAsync($"/v1/users/u/suggestions?q={new string('a', 201)}", ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.A.GetAsync("/v1/users/u/suggestions?k=2147483648", ct)).StatusCode);
    }
}
