namespace SessionRec.TestSupport;

using System.Diagnostics;
using StackExchange.Redis;

/// <summary>
/// A real Redis Cluster on loopback: <c>masters</c> redis-server processes with <c>--cluster-enabled yes</c> (each
/// with its own folder, the AOF fsynced on every write), joined by <c>redis-cli --cluster create</c> and waited on
/// until every node reports the cluster ok. No replicas: killing a master takes its slots away until it restarts
/// (from its AOF and nodes.conf), which is what the tests that kill one want to see; the other masters keep serving
/// their slots meanwhile (<c>cluster-require-full-coverage no</c>).
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private RedisCluster(IReadOnlyList<RedisServer> masters) => Masters = masters;

    public IReadOnlyList<RedisServer> Masters { get; }

    public string ConnectionString =>
        string.Join(',', Masters.Select(m => $"127.0.0.1:{m.Port}")) + ",abortConnect=false,connectTimeout=2000,syncTimeout=5000";

    /// <summary>How many times a cluster that did not form is started afresh (CI saw `redis-cli --cluster create` hang under load).</summary>
    private const int StartAttempts = 3;

    public static async Task<RedisCluster> StartAsync(int masters = 3, CancellationToken cancellationToken = default)
    {
        var cli = RedisServer.FindBinary("redis-cli") ?? throw new InvalidOperationException(
            "redis-cli is not installed: the cluster tests need the redis-server package (apt-get install -y redis-server).");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(cli, masters, cancellationToken);
            }
            catch (TimeoutException) when (attempt < StartAttempts)
            {
                // New nodes on new ports: nothing of the attempt that hung is reused.
            }
        }
    }

    private static async Task<RedisCluster> TryStartAsync(string cli, int masters, CancellationToken cancellationToken)
    {
        var nodes = new List<RedisServer>();
        try
        {
            for (var i = 0; i < masters; i++)
            {
                nodes.Add(await RedisServer.StartAsync("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",

                    // A master that is down takes only its own slots away: the others keep serving.
                    "--cluster-require-full-coverage", "no"));
            }

            var create = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
            create.ArgumentList.Add("--cluster");
            create.ArgumentList.Add("create");
            foreach (var node in nodes)
            {
                create.ArgumentList.Add($"127.0.0.1:{node.Port}");
            }

            create.ArgumentList.Add("--cluster-yes");
            using var process = Process.Start(create)!;
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }
            catch (TimeoutException)
            {
                process.Kill();
                throw;
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create failed ({process.ExitCode}): {await output} {await error}");
            }

            var cluster = new RedisCluster(nodes);
            await cluster.WaitUntilOkAsync(TimeSpan.FromSeconds(30), cancellationToken);
            return cluster;
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Waits until every master is up and says <c>cluster_state:ok</c> (after a start, or a master's restart), and has
    /// said so for <paramref name="stableFor"/>: after a master's restart the others may still mark it failed from
    /// reports gossiped while it was down (the cluster then answers CLUSTERDOWN again for a while, seen under CI load),
    /// so a restart waits past a few node timeouts of unbroken ok.
    /// </summary>
    public async Task WaitUntilOkAsync(TimeSpan timeout, CancellationToken cancellationToken = default, TimeSpan stableFor = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        DateTime? okSince = null;
        while (true)
        {
            var ok = 0;
            foreach (var node in Masters)
            {
                try
                {
                    await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{node.Port},connectTimeout=500");
                    var info = (string?)await probe.GetServer("127.0.0.1", node.Port).ExecuteAsync("CLUSTER", "INFO");
                    if (info?.Contains("cluster_state:ok", StringComparison.Ordinal) == true)
                    {
                        ok++;
                    }
                }
                catch (RedisException)
                {
                }
            }

            if (ok == Masters.Count)
            {
                okSince ??= DateTime.UtcNow;
                if (DateTime.UtcNow - okSince >= stableFor)
                {
                    return;
                }
            }
            else
            {
                okSince = null;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The Redis Cluster was not ok for {stableFor} within {timeout} ({ok} of {Masters.Count} nodes ok).");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>The master that serves <paramref name="key"/>'s slot now.</summary>
    public async Task<RedisServer> MasterOfAsync(IConnectionMultiplexer redis, RedisKey key)
    {
        var endpoint = (System.Net.IPEndPoint)(await redis.GetDatabase().IdentifyEndpointAsync(key))!;
        return Masters.Single(m => m.Port == endpoint.Port);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Masters)
        {
            await node.DisposeAsync();
        }
    }
}
