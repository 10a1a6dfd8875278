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

        // Grains spread over both silos keep working, with state in the shared Redis. Where each lives is looked up:
        // right after a silo joins, placement may not use it yet (it learns the silos' load from statistics), so
        // users are added until both silos host some, within a deadline.
        var now = DateTimeOffset.UtcNow;
        var where = new HashSet<SiloAddress>();
        var users = 0;
        var spreadBy = DateTime.UtcNow.AddSeconds(60);
        while (where.Count < hosts.Count || users < 20)
        {
            Assert.True(DateTime.UtcNow < spreadBy, $"after {users} users the grains live on {where.Count} of {hosts.Count} silos");
            var grain = grains.GetGrain<IUserSessionGrain>(TenantKey.For("t", $"u{users}"));
            await grain.RecordAsync([new UserEvent($"e{users}", $"u{users}", null, EventType.View, "a", null, null, null, now, now)], []);
            var address = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain);
            Assert.NotNull(address);
            Assert.Contains(address, hosts.Keys);
            where.Add(address);
            users++;
        }

        var view = await grains.GetGrain<IUserSessionGrain>(TenantKey.For("t", "u7")).GetAsync();
        Assert.Equal("e7", Assert.Single(view.Current!.Events).EventId);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
