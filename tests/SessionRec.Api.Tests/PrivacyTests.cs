namespace SessionRec.Api.Tests;

using System.Net;
using System.Text.Json;
using SessionRec.Api.Contracts;
using StackExchange.Redis;

/// <summary>
/// First-contact privacy defects: every accepted id can be read and erased; one user's searches reach others only
/// when enough users made them, never after that user's erasure, never when an operator blocked them.
/// </summary>
public sealed class PrivacyTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static object Search(string user, string query, DateTimeOffset? at = null) =>
        new { event_id = Unique("q"), user_id = user, type = "search", query, timestamp = at ?? DateTimeOffset.UtcNow.AddMinutes(-5) };

    private HttpClient Admin()
    {
        var client = api.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
        return client;
    }

    private async Task<IReadOnlyList<string>> SuggestedTo(HttpClient client, string user, string q)
    {
        var response = await client.GetAsync($"/v1/users/{user}/suggestions?k=20&q={Uri.EscapeDataString(q)}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Read<SuggestionsResponse>()).Suggestions.Select(s => s.Text)];
    }

    /// <summary>
    /// What the user is suggested once <paramref name="expected"/> is among it, or at the deadline: others' searches
    /// are offered when the query log's next snapshot reaches the replicas (Recommendations:SnapshotInterval and
    /// SnapshotPoll, 0.3 s together in these tests).
    /// </summary>
    private async Task<IReadOnlyList<string>> SuggestedOnceOffered(HttpClient client, string user, string q, string expected)
    {
        var suggested = await SuggestedTo(client, user, q);
        for (var deadline = DateTime.UtcNow.AddSeconds(15); !suggested.Contains(expected) && DateTime.UtcNow < deadline; suggested = await SuggestedTo(client, user, q))
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return suggested;
    }

    [Fact(Timeout = 60_000)]
    public async Task IdsWithASlashAreRefusedAtIngestionAndEveryAcceptedIdCanBeErased()
    {
        var ct = TestContext.Current.CancellationToken;
        var posted = await (await api.B.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), "shop/42", "a"), Http.View(Unique("e"), "u", "x%2Fy") } })).Read<PostEventsResponse>();
        Assert.Equal(2, posted.Rejected);
        Assert.Contains("user_id must not contain '/'", posted.Results[0].Reason);
        Assert.Contains("item_id must not contain '/'", posted.Results[1].Reason);

        var item = await api.B.PutJson("/v1/items", new { items = new[] { Http.Item("lip/1") } });
        Assert.Equal(HttpStatusCode.BadRequest, item.StatusCode);
        Assert.Contains("must not contain '/'", (await item.ReadProblem()).GetProperty("errors").GetRawText());

        var erase = await api.B.DeleteAsync("/v1/users/shop%2F42", ct);
        Assert.Equal(HttpStatusCode.BadRequest, erase.StatusCode);
        Assert.Contains("must not contain '/'", (await erase.ReadProblem()).GetProperty("detail").GetString());

        // Everything else an id may hold goes through a URL encoded, and erasure finds it.
        var odd = "shop 42?#%&+é" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(1, (await (await api.B.PostJson("/v1/events", new { events = new[] { Http.View(Unique("e"), odd, "a") } })).Read<PostEventsResponse>()).Accepted);
        var session = await (await api.B.GetAsync($"/v1/users/{Uri.EscapeDataString(odd)}/session", ct)).Read<UserSessionResponse>();
        Assert.Equal(odd, session.UserId);
        Assert.Single(session.Current!.Events);
        var erased = await (await api.B.DeleteAsync($"/v1/users/{Uri.EscapeDataString(odd)}", ct)).Read<EraseUserResponse>();
        Assert.Equal(1, erased.ClickLogRecordsErased);

        // The proof by a scan: no record of the tenant's log names the user.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(api.Redis.ConnectionString);
        var records = await redis.GetDatabase().HashValuesAsync($"sr:{{{ApiFactory.TenantB}}}:log");
        Assert.DoesNotContain(records, r => JsonDocument.Parse((string)r!).RootElement.GetProperty("user_id").GetString() == odd);
    }

    [Fact(Timeout = 60_000)]
    public async Task AQueryIsSuggestedToOthersOnlyOnceThreeUsersSearchedItAndErasureTakesAUsersShareBack()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var spam = $"visit evil{tag}.example for cheap pills";
        var shared = $"vitamin{tag} serum";
        var crowd = Enumerable.Range(0, 3).Select(i => Unique($"crowd{i}")).ToArray();
        var events = new List<object> { Search("spammer-" + tag, spam), Search("spammer-" + tag, spam) };
        events.AddRange(crowd.Select(u => Search(u, shared)));
        Assert.Equal(5, (await (await api.A.PostJson("/v1/events", new { events })).Read<PostEventsResponse>()).Accepted);

        var bob = "bob-" + tag;
        Assert.Contains(shared, await SuggestedOnceOffered(api.A, bob, $"vitamin{tag}", shared));
        Assert.DoesNotContain(spam, await SuggestedTo(api.A, bob, ""));
        Assert.DoesNotContain(spam, await SuggestedTo(api.A, bob, "visit"));

        // One of the three is erased: the query is down to two users and leaves everyone's suggestions at once.
        Assert.Equal(HttpStatusCode.OK, (await api.A.DeleteAsync($"/v1/users/{crowd[0]}", TestContext.Current.CancellationToken)).StatusCode);
        Assert.DoesNotContain(shared, await SuggestedTo(api.A, bob, $"vitamin{tag}"));
    }

    [Fact(Timeout = 60_000)]
    public async Task OperatorsBlockPhrasesAndPatternsForTheNextRequest()
    {
        var ct = TestContext.Current.CancellationToken;
        var tag = Guid.NewGuid().ToString("N")[..6];
        var pills = $"cheap{tag} pills online";
        var casino = $"casino{tag} bonus";
        var events = Enumerable.Range(0, 3).SelectMany(i => new[] { Search($"u{i}-{tag}", pills), Search($"u{i}-{tag}", casino) }).ToList();
        Assert.Equal(6, (await (await api.B.PostJson("/v1/events", new { events })).Read<PostEventsResponse>()).Accepted);
        Assert.Contains(pills, await SuggestedOnceOffered(api.B, "reader", $"cheap{tag}", pills));
        Assert.Contains(casino, await SuggestedOnceOffered(api.B, "reader", $"casino{tag}", casino));

        using var admin = Admin();
        var set = await admin.PutJson($"/v1/admin/tenants/{ApiFactory.TenantB}/suggestions/blocklist", new { phrases = new[] { $"Cheap{tag} PILLS" }, patterns = new[] { $"^casino{tag}\\b" } });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.DoesNotContain(pills, await SuggestedTo(api.B, "reader", $"cheap{tag}"));
        Assert.DoesNotContain(casino, await SuggestedTo(api.B, "reader", $"casino{tag}"));
        Assert.DoesNotContain(pills, await SuggestedTo(api.A, "reader", $"cheap{tag}")); // another shop never saw it

        var bad = await admin.PutJson($"/v1/admin/tenants/{ApiFactory.TenantB}/suggestions/blocklist", new { patterns = new[] { "(unclosed" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("patterns[0]", (await bad.ReadProblem()).GetProperty("detail").GetString());

        // A tenant's key cannot change the blocklist.
        Assert.Equal(HttpStatusCode.Forbidden, (await api.B.PutJson($"/v1/admin/tenants/{ApiFactory.TenantB}/suggestions/blocklist", new { phrases = Array.Empty<string>() })).StatusCode);
        var current = await (await admin.GetAsync($"/v1/admin/tenants/{ApiFactory.TenantB}/suggestions/blocklist", ct)).Read<BlocklistResponse>();
        Assert.Equal([$"Cheap{tag} PILLS"], current.Phrases);
    }

    [Fact(Timeout = 60_000)]
    public async Task KeysAreCreatedListedAndRevokedWithoutARestart()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = Admin();
        var tenant = "shop-" + Guid.NewGuid().ToString("N")[..8];
        var created = await admin.PostJson("/v1/admin/keys", new { tenant, name = "storefront" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Read<CreatedKeyResponse>();
        Assert.StartsWith("sr_", key.Key, StringComparison.Ordinal);

        using var shop = api.Factory.ClientFor(key.Key);
        Assert.Equal(HttpStatusCode.OK, (await shop.PutJson("/v1/items", new { items = new[] { Http.Item("only-in-new-tenant") } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync("/v1/items/only-in-new-tenant", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.A.GetAsync("/v1/items/only-in-new-tenant", ct)).StatusCode);

        var listed = await (await admin.GetAsync($"/v1/admin/keys?tenant={tenant}", ct)).Read<KeysResponse>();
        var entry = Assert.Single(listed.Keys);
        Assert.Equal((key.Id, "storefront", "managed"), (entry.Id, entry.Name, entry.Source));
        Assert.DoesNotContain(key.Key, await (await admin.GetAsync("/v1/admin/keys", ct)).Content.ReadAsStringAsync(ct));

        // Keys stay in their lane: a tenant key on admin routes and the admin key on tenant routes are refused.
        Assert.Equal(HttpStatusCode.Forbidden, (await shop.GetAsync("/v1/admin/keys", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.GetAsync("/v1/clicklog", ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/admin/keys/{key.Id}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await shop.GetAsync("/v1/items/only-in-new-tenant", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/v1/admin/keys/{key.Id}", ct)).StatusCode);
        var configured = (await (await admin.GetAsync($"/v1/admin/keys?tenant={ApiFactory.TenantA}", ct)).Read<KeysResponse>()).Keys.Single();
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/v1/admin/keys/{configured.Id}", ct)).StatusCode);
    }
}
