namespace SessionRec.Abstractions.ClickLog;

/// <summary>Reads of a whole (small) log: tools and tests; the service's followers read in bounded pages.</summary>
public static class ClickLogReading
{
    /// <summary>
    /// Every record of the tenant's log after <paramref name="after"/> (null: from the start) in merged arrival order,
    /// at most <paramref name="max"/>.
    /// </summary>
    public static async Task<IReadOnlyList<ClickLogRecord>> ReadAllAsync(
        this IClickLog log, string tenant, LogPosition? after = null, int max = 1_000_000, CancellationToken cancellationToken = default)
    {
        var position = after ?? LogPosition.Start(await log.PartitionsAsync(tenant, cancellationToken));
        var records = new List<ClickLogRecord>();
        while (records.Count < max)
        {
            var page = await log.ReadAsync(tenant, position, Math.Min(5_000, max - records.Count), cancellationToken);
            records.AddRange(page.Records);
            position = position.After(page.Records);

            if (!page.More || page.Records.Count == 0)
            {
                break;
            }
        }

        return records;
    }
}
