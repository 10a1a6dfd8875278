namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Sessions;
using SessionRec.Silo.Hosting;
using SessionRec.TestSupport;

/// <summary>Two real silo processes on loopback, clustered through a real Redis, as in production.</summary>
public sealed class SiloProcessClusterTests
{
    [Fact(Timeout = 180_000)]
    public async Task TwoSiloProcessesFormOneClusterThatServesGrains()
    {
        await using var silos = await SiloProcessCluster.StartAsync(2);
        var clusterId = silos.ClusterId;

        var client = Host.CreateApplicationBuilder();
        client.UseOrleansClient(c =>
        {
            c.UseRedisClustering(silos.Redis.ConnectionString);
            c.Configure<ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = SiloHosting.ServiceId; });
        });
        using var host = client.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        var grains = host.Services.GetRequiredService<IClusterClient>();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        Dictionary<SiloAddress, SiloStatus> hosts;
        while (true)
        {
            hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            if (hosts.Count == 2 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.Equal(2, hosts.Count);

        // Grains spread over both silos keep working, with state in the shared Redis.
        var now = DateTimeOffset.UtcNow;
        for (var u = 0; u < 20; u++)
        {
            await grains.GetGrain<IUserSessionGrain>(TenantKey.For("t", $"u{u}"))
                .RecordAsync([new UserEvent($"e{u}", $"u{u}", null, EventType.View, "a", null, null, null, now, now)], []);
        }

        var view = await grains.GetGrain<IUserSessionGrain>(TenantKey.For("t", "u7")).GetAsync();
        Assert.Equal("e7", Assert.Single(view.Current!.Events).EventId);

        // The claim above, checked: the grains live on both silos.
        var where = new HashSet<SiloAddress>();
        for (var u = 0; u < 20; u++)
        {
            var address = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<IUserSessionGrain>(TenantKey.For("t", $"u{u}")));
            Assert.NotNull(address);
            where.Add(address);
        }

        Assert.Equal(hosts.Keys.ToHashSet(), where);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
