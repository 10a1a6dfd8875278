namespace SessionRec.Cli.Generate;

using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// Writes a <see cref="SyntheticClickLog"/> straight into the embedded default's data folder (the service stopped) or
/// into a Redis server (cluster mode), through the service's own click log, a few batches in flight; the ids are new,
/// so they are recorded for deduplication without being looked up (as the service logs its impressions).
/// </summary>
/// <param name="dataPath">The embedded default's data folder; used when <paramref name="redisConnection"/> is null.</param>
/// <param name="redisConnection">A Redis connection string (cluster mode).</param>
public sealed class ClickLogGenerator(string dataPath, string tenant, string? redisConnection = null)
{
    private const int Chunk = 1_000;
    private const int InFlight = 4;

    public async Task<long> RunAsync(SyntheticClickLog log, long records, Action<long> progress, CancellationToken cancellationToken)
    {
        using var garnet = redisConnection is null ? EmbeddedGarnet.Start(dataPath) : null;
        using var redis = await StoreConnections.ConnectAsync(redisConnection ?? garnet!.ConnectionString);
        IWriteBarrier barrier = garnet is null ? new ServerPolicyBarrier() : new GarnetCommitBarrier(garnet);
        var clickLog = new RedisClickLog(redis, barrier);
        var pending = new List<Task>();
        long written = 0;
        foreach (var batch in log.Batches(records, DateTimeOffset.UtcNow.AddMinutes(-1)))
        {
            foreach (var chunk in batch.Chunk(Chunk))
            {
                pending.Add(clickLog.AppendServedAsync(tenant, chunk, cancellationToken));
                written += chunk.Length;
                if (pending.Count >= InFlight)
                {
                    await Task.WhenAll(pending);
                    pending.Clear();
                    progress(written);
                }
            }
        }

        await Task.WhenAll(pending);
        await barrier.WaitDurableAsync(cancellationToken);
        progress(written);
        return written;
    }
}
