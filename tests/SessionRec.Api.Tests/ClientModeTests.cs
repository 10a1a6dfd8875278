namespace SessionRec.Api.Tests;

using System.Net;
using SessionRec.Api.Contracts;
using SessionRec.TestSupport;

/// <summary>The API as a pure client (Orleans:Role=Client) of two silo processes clustered through Redis.</summary>
public sealed class ClientModeTests : IAsyncLifetime
{
    private readonly List<SiloProcess> _silos = [];
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task AnApiClientServesRequestsFromASiloOnlyCluster()
    {
        var ct = TestContext.Current.CancellationToken;
        var clusterId = "client-" + Guid.NewGuid().ToString("N")[..8];
        _silos.Add(SiloProcess.Start(_redis.ConnectionString, clusterId));
        _silos.Add(SiloProcess.Start(_redis.ConnectionString, clusterId));
        await using var api = new ApiFactory(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Orleans:Role"] = "Client",
            ["Orleans:ClusterId"] = clusterId,
        });
        using var client = api.ClientFor(ApiFactory.KeyA);

        // The client retries its gateway connection until a silo is up.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/health/ready", ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "The API client never saw an active silo.");
            await Task.Delay(250, ct);
        }

        await client.PutJson("/v1/items", new { items = new[] { Http.Item("a"), Http.Item("b") } });
        var posted = await (await client.PostJson("/v1/events", new { events = new[] { Http.View("c1", "u", "a") } })).Read<PostEventsResponse>();
        var session = await (await client.GetAsync("/v1/users/u/session", ct)).Read<UserSessionResponse>();

        Assert.Equal(1, posted.Accepted);
        Assert.Equal("a", Assert.Single(session.Current!.Events).ItemId);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/users/u/recommendations", ct)).StatusCode);
    }
}
