namespace SessionRec.TestSupport;

/// <summary>A real redis-server and silo-only processes clustered through it, stopped (killed) at the end.</summary>
public sealed class SiloProcessCluster : IAsyncDisposable
{
    private readonly List<SiloProcess> _silos = [];

    private SiloProcessCluster(RedisServer redis) => Redis = redis;

    public RedisServer Redis { get; }

    public string ClusterId { get; } = "proc-" + Guid.NewGuid().ToString("N")[..8];

    public IReadOnlyList<SiloProcess> Silos => _silos;

    public static async Task<SiloProcessCluster> StartAsync(int silos)
    {
        var cluster = new SiloProcessCluster(await RedisServer.StartAsync());
        for (var i = 0; i < silos; i++)
        {
            cluster._silos.Add(SiloProcess.Start(cluster.Redis.ConnectionString, cluster.ClusterId));
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        // Silos first: a silo whose Redis is gone would hang in its shutdown.
        try
        {
            foreach (var silo in _silos)
            {
                await silo.DisposeAsync();
            }
        }
        finally
        {
            await Redis.DisposeAsync();
        }
    }
}
