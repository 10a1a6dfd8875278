namespace SessionRec.Silo.Replicas;

using Microsoft.Extensions.Logging;
using SessionRec.Abstractions.Replicas;

/// <summary>
/// Tells every active silo's replicas of a change, so the writer answers only once every silo serves it. A silo
/// that does not answer in time is skipped (logged): its replica finds the change at its next poll.
/// </summary>
public sealed partial class ReplicaFanOut(IClusterMembershipService membership, IGrainFactory grains, ILogger<ReplicaFanOut> logger)
{
    /// <summary>How long a writer waits for one silo's replica.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>The active silos, each as the key of its <see cref="ISiloReplicasGrain"/>.</summary>
    private IReadOnlyList<string> ActiveSilos() =>
        [.. membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToParsableString())];

    public Task CatalogueChangedAsync(string tenant, long version) =>
        EachAsync(tenant, replicas => replicas.CatalogueChangedAsync(tenant, version));

    public Task StatisticsPublishedAsync(string tenant) =>
        EachAsync(tenant, replicas => replicas.StatisticsPublishedAsync(tenant));

    public Task QueryLogPublishedAsync(string tenant) =>
        EachAsync(tenant, replicas => replicas.QueryLogPublishedAsync(tenant));

    public Task BlocklistChangedAsync(string tenant) =>
        EachAsync(tenant, replicas => replicas.BlocklistChangedAsync(tenant));

    private Task EachAsync(string tenant, Func<ISiloReplicasGrain, Task> call) =>
        Task.WhenAll(ActiveSilos().Select(async silo =>
        {
            try
            {
                await call(grains.GetGrain<ISiloReplicasGrain>(silo)).WaitAsync(Timeout);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException || Storage.StoreFailures.IsStoreError(e))
            {
                // The change is stored; that silo's replica polls for it.
                LogSkipped(logger, e, tenant, silo);
            }
        }));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: the replicas of silo {Silo} did not take a change in time; they poll for it")]
    private static partial void LogSkipped(ILogger logger, Exception exception, string tenant, string silo);
}
