namespace SessionRec.Silo.ClickLog;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;

/// <summary>
/// One retention pass over a tenant's log: in each partition, from its first sequence on, the records received more
/// than <see cref="ClickLogOptions.Retention"/> ago are written to an archive file, then dropped from the store, a
/// batch at a time, until a record still in its retention (a partition is in arrival order) or the pass's bound.
/// </summary>
public sealed class ClickLogRetention(IClickLog log, ClickLogArchive archive, IOptions<ClickLogOptions> options, TimeProvider time)
{
    private const int Batch = 5_000;

    /// <summary>Returns how many records were archived and dropped (at most about <paramref name="maxRecords"/>).</summary>
    public async Task<int> RunAsync(string tenant, int maxRecords, CancellationToken cancellationToken = default)
    {
        var retention = options.Value.Retention;
        if (retention <= TimeSpan.Zero)
        {
            return 0;
        }

        var cutoff = time.GetUtcNow() - retention;
        var partitions = await log.PartitionsAsync(tenant, cancellationToken);
        var archived = 0;
        for (var partition = 0; partition < partitions && archived < maxRecords; partition++)
        {
            while (archived < maxRecords)
            {
                var first = await log.FirstSequenceAsync(tenant, partition, cancellationToken);
                var page = await log.ReadPartitionAsync(tenant, partition, first, Batch, cancellationToken);
                var expired = page.TakeWhile(r => r.Event.ReceivedAt < cutoff).ToList();
                if (expired.Count == 0)
                {
                    break;
                }

                // Archived (and on disk) before it leaves the store: a crash between the two archives a batch twice, at worst.
                await archive.WriteAsync(tenant, expired, cancellationToken);
                await log.DropOldestAsync(tenant, partition, expired, expired[^1].Sequence, cancellationToken);
                archived += expired.Count;
                if (expired.Count < page.Count)
                {
                    break;
                }
            }
        }

        return archived;
    }
}
