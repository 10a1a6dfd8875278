namespace SessionRec.Cli.Log;

using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// `sessionrec log repartition`: <see cref="LogRepartitioning"/> on the embedded default's data folder (the service
/// stopped) or on a Redis server or cluster (every service process stopped).
/// </summary>
public static class LogRepartitionCommand
{
    /// <param name="dataPath">The embedded default's data folder; used when <paramref name="redisConnection"/> is null.</param>
    public static async Task<RepartitionResult> RunAsync(
        string dataPath, string? redisConnection, string tenant, int partitions, Action<long, long> progress, CancellationToken cancellationToken)
    {
        using var garnet = redisConnection is null ? EmbeddedGarnet.Start(dataPath) : null;
        using var redis = await StoreConnections.ConnectAsync(redisConnection ?? garnet!.ConnectionString);
        IWriteBarrier barrier = garnet is null ? new ServerPolicyBarrier() : new GarnetCommitBarrier(garnet);
        return await new LogRepartitioning(redis, barrier, new ClickLogOptions()).RunAsync(tenant, partitions, progress, cancellationToken);
    }
}
