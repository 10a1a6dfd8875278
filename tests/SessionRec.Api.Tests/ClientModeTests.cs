namespace SessionRec.Api.Tests;

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Sessions;
using SessionRec.Api.Contracts;
using SessionRec.TestSupport;

/// <summary>The API as a pure client (Orleans:Role=Client) of two silo processes clustered through Redis.</summary>
public sealed class ClientModeTests
{
    private static ApiFactory ClientOf(SiloProcessCluster silos, string? responseTimeout = null) =>
        new(silos.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Orleans:Role"] = "Client",
            ["Orleans:ClusterId"] = silos.ClusterId,
            ["Orleans:ResponseTimeout"] = responseTimeout ?? "00:00:05",
        });

    [Fact(Timeout = 180_000)]
    public async Task AnApiClientServesRequestsFromASiloOnlyCluster()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var silos = await SiloProcessCluster.StartAsync(2);
        await using var api = ClientOf(silos);
        using var client = api.ClientFor(ApiFactory.KeyA);
        await WaitForSilosAsync(api, client, 2, ct);

        await client.PutJson("/v1/items", new { items = new[] { Http.Item("a"), Http.Item("b") } });
        var posted = await (await client.PostJson("/v1/events", new { events = new[] { Http.View("c1", "u", "a") } })).Read<PostEventsResponse>();
        var session = await (await client.GetAsync("/v1/users/u/session", ct)).Read<UserSessionResponse>();

        Assert.Equal(1, posted.Accepted);
        Assert.Equal("a", Assert.Single(session.Current!.Events).ItemId);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/users/u/recommendations", ct)).StatusCode);
    }

    [Fact(Timeout = 300_000)]
    public async Task WhenASiloDiesRequestsFailFastWith503AndRecoverByThemselves()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var silos = await SiloProcessCluster.StartAsync(2);
        await using var api = ClientOf(silos, responseTimeout: "00:00:03");
        using var client = api.ClientFor(ApiFactory.KeyA);
        await WaitForSilosAsync(api, client, 2, ct);

        // Users spread over both silos: where each user's session grain lives is looked up, not hoped for.
        var users = Enumerable.Range(0, 40).Select(i => $"f{i}").ToList();
        foreach (var user in users)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/v1/events", new { events = new[] { Http.View($"{user}-1", user, "a") } })).StatusCode);
        }

        var grains = api.Services.GetRequiredService<IGrainFactory>();
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = new Dictionary<string, int>();
        foreach (var user in users)
        {
            var address = await management.GetActivationAddress(grains.GetGrain<IUserSessionGrain>(TenantKey.For(ApiFactory.TenantA, user)));
            Assert.NotNull(address);
            hosts[user] = address.Endpoint.Port;
        }

        // The silo to kill is the one holding the most of these users' session grains (placement may not have used
        // the newer silo yet, so all of them may be on one).
        var victimPort = hosts.Values.GroupBy(p => p).OrderByDescending(g => g.Count()).First().Key;
        var victim = silos.Silos.Single(s => s.SiloPort == victimPort);
        var onVictim = users.Where(u => hosts[u] == victim.SiloPort).ToList();
        Assert.NotEmpty(onVictim);

        await victim.DisposeAsync(); // SIGKILL: no graceful hand-over

        // Until the cluster notices, calls to the dead silo's grains fail within the response timeout with 503 and
        // Retry-After, never 500; then every user is served again without anyone restarting anything.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var statuses = new List<HttpStatusCode>();
        while (true)
        {
            var allOk = true;
            foreach (var user in users)
            {
                var started = DateTime.UtcNow;
                var response = await client.GetAsync($"/v1/users/{user}/session", ct);
                statuses.Add(response.StatusCode);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    allOk = false;
                    Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                    Assert.NotNull(response.Headers.RetryAfter);
                    Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "A failing request took longer than 10 s.");
                }
            }

            if (allOk)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Not recovered after 120 s: {string.Join(",", statuses.TakeLast(40))}");
        }

        // No assertion that a 503 was seen: when the killed silo's connection resets, Orleans may mark it dead and
        // re-activate its grains elsewhere before the first request (seen once in ~10 CI runs). What must hold either
        // way is asserted above: only 200 or a fast 503 with Retry-After, then recovery without a restart.

        // The sessions are still there: state from Redis, events replayed from the click log.
        var session = await (await client.GetAsync("/v1/users/f7/session", ct)).Read<UserSessionResponse>();
        Assert.Equal("a", Assert.Single(session.Current!.Events).ItemId);
    }

    // The client retries its gateway connection until a silo is up; then the cluster is polled until all are active.
    private static async Task WaitForSilosAsync(ApiFactory api, HttpClient client, int count, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/health/ready", ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "The API client never saw an active silo.");
            await Task.Delay(250, ct);
        }

        var management = api.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        while ((await management.GetHosts(onlyActive: true)).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Fewer than {count} silos became active within 60 s.");
            await Task.Delay(250, ct);
        }
    }
}
