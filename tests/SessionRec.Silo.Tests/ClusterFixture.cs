namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using SessionRec.Silo.Hosting;
using SessionRec.TestSupport;

/// <summary>A real redis-server and a two-silo Orleans test cluster that stores grain state in it.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string RedisKey = "SessionRecTests:Redis";

    public RedisServer Redis { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Cluster = await StartClusterAsync(Redis.ConnectionString);
    }

    public static async Task<TestCluster> StartClusterAsync(string redis)
    {
        var builder = new TestClusterBuilder(initialSilosCount: 2);
        builder.Properties[RedisKey] = redis;

        // Grain state is keyed by service id: a fixed one lets a second cluster find the first one's state.
        builder.Options.ServiceId = "sessionrec-tests";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Redis.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var redis = siloBuilder.Configuration[RedisKey]!;
            siloBuilder.Services.AddSessionRecStorage(redis);

            // The test host owns clustering and endpoints; we add everything else exactly as production does.
            siloBuilder.ConfigureSessionRecGrains(siloBuilder.Configuration, redis);
        }
    }
}
