namespace SessionRec.Silo.ClickLog;

using System.Text.Json;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.EventContract;
using SessionRec.Silo.Analytics;
using SessionRec.Silo.Snapshots;
using SessionRec.Silo.Statistics;
using SessionRec.Silo.Storage;
using SessionRec.Silo.Suggestions;
using StackExchange.Redis;

/// <summary>
/// What a repartitioning did: the records moved, whether it only finished an earlier run's cleanup, and the records it
/// could not move because they no longer parse (their content was already lost; they go with the old log).
/// </summary>
public sealed record RepartitionResult(long Records, int Partitions, bool AlreadyDone, long Unreadable = 0);

/// <summary>
/// Splits a tenant's log of one partition (every log written before partitions) into <c>P</c> partitions by user, the
/// service stopped. Each record keeps its sequence number, so everything that refers to one stays true: a user's
/// sessions and knowledge (applied through a sequence of theirs), analytics digests, archive file names, the dedup
/// index. Every partition's counter starts at the old log's last sequence, so a follower's position <c>X</c> becomes
/// <c>X</c> in every partition: it has read exactly the records up to <c>X</c>, wherever they went, and each new record
/// comes after. The new partitions are written first, the snapshots' positions converted, then the count is switched
/// (one key) and the old keys deleted: a run cut short is run again, and finishes.
/// </summary>
public sealed class LogRepartitioning(IConnectionMultiplexer redis, IWriteBarrier barrier, ClickLogOptions options, TimeProvider? time = null)
{
    private const int Window = 2_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<RepartitionResult> RunAsync(string tenant, int partitions, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (partitions is < 2 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(partitions), "A log is split into 2 to 256 partitions.");
        }

        var db = redis.GetDatabase();
        var current = (int?)await db.StringGetAsync(RedisKeys.LogPartitions(tenant)).WaitAsync(cancellationToken);
        if (current == partitions)
        {
            // Switched already: what an interrupted run may have left is the old log's keys.
            var left = await db.KeyExistsAsync(RedisKeys.LogSequence(tenant)).WaitAsync(cancellationToken);
            await DeleteOldLogAsync(tenant, cancellationToken);
            return new RepartitionResult(0, partitions, AlreadyDone: !left);
        }

        if (current is not (null or 1))
        {
            throw new InvalidOperationException($"The tenant's log has {current} partitions: only a log of one partition can be repartitioned.");
        }

        var last = (long?)await db.StringGetAsync(RedisKeys.LogSequence(tenant)).WaitAsync(cancellationToken) ?? 0;
        var first = (long?)await db.StringGetAsync(RedisKeys.LogFirst(tenant)).WaitAsync(cancellationToken) ?? 1;
        var (moved, unreadable) = (0L, 0L);
        for (var from = first; from <= last; from += Window)
        {
            var count = (int)Math.Min(Window, last - from + 1);
            var sequences = new long[count];
            for (var i = 0; i < count; i++)
            {
                sequences[i] = from + i;
            }

            var values = await RedisClickLog.ReadRecordsAsync(db, tenant, sequences).WaitAsync(cancellationToken);
            var (copied, skipped) = await CopyAsync(tenant, partitions, from, values, cancellationToken);
            (moved, unreadable) = (moved + copied, unreadable + skipped);
            progress?.Invoke(Math.Min(last, from + count - 1) - first + 1, last - first + 1);
        }

        var writes = new List<Task>();
        for (var p = 0; p < partitions; p++)
        {
            var tag = RedisKeys.LogTag(tenant, p, partitions);
            writes.Add(db.StringSetAsync(RedisKeys.LogSequence(tag), last));
            writes.Add(db.StringSetAsync(RedisKeys.LogFirst(tag), first));
        }

        await Task.WhenAll(writes).WaitAsync(cancellationToken);
        foreach (var keys in new[] { StatisticsSnapshotStore.Keys(tenant), QueryLogReplicas.Keys(tenant), AnalyticsStore.Keys(tenant) })
        {
            await ConvertSnapshotAsync(keys, partitions, cancellationToken);
        }

        await barrier.WaitDurableAsync(cancellationToken);
        await db.StringSetAsync(RedisKeys.LogPartitions(tenant), partitions).WaitAsync(cancellationToken);
        await barrier.WaitDurableAsync(cancellationToken);
        await DeleteOldLogAsync(tenant, cancellationToken);
        return new RepartitionResult(moved, partitions, AlreadyDone: false, unreadable);
    }

    // One window of the old log into the new partitions: the record, the user's index entry, and the event id in the
    // dedup index for as long as it is still remembered (as AppendAsync would have: the window and a day after arrival;
    // a served impression's id is not remembered, as AppendServedAsync does not).
    private async Task<(int Copied, int Unreadable)> CopyAsync(string tenant, int partitions, long from, RedisValue[] values, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var life = RedisClickLog.IdLife(options.DedupWindow);
        var records = new Dictionary<string, List<KeyValuePair<RedisKey, RedisValue>>>(StringComparer.Ordinal);
        var indexes = new Dictionary<string, Dictionary<string, List<long>>>(StringComparer.Ordinal);
        var writes = new List<Task>();
        var (copied, unreadable) = (0, 0);
        for (var i = 0; i < values.Length; i++)
        {
            var sequence = from + i;
            if (values[i].IsNull)
            {
                continue;
            }

            // An unreadable record names no user, so no partition: it is not copied.
            if (!StoredEvents.TryRead(values[i], tenant, sequence, logger: null, out var evt))
            {
                unreadable++;
                continue;
            }

            var tag = RedisKeys.LogTag(tenant, LogPartitioning.Of(evt.UserId, partitions), partitions);
            (records.TryGetValue(tag, out var list) ? list : records[tag] = []).Add(new(RedisKeys.LogRecord(tag, sequence), values[i]));
            var users = indexes.TryGetValue(tag, out var u) ? u : indexes[tag] = new(StringComparer.Ordinal);
            (users.TryGetValue(evt.UserId, out var seqs) ? seqs : users[evt.UserId] = []).Add(sequence);
            // The value as the append scripts write it (RedisKeys.LogEventId): "sequence:remembered-until".
            var until = evt.ReceivedAt.ToUnixTimeSeconds() + life;
            if (until > now && !ServedIds.IsImpression(evt.EventId))
            {
                writes.Add(db.StringSetAsync(RedisKeys.LogEventId(tag, evt.EventId), $"{sequence}:{until}", TimeSpan.FromSeconds(until - now)));
            }

            copied++;
        }

        foreach (var (tag, entries) in records)
        {
            writes.Add(db.StringSetAsync([.. entries]));
        }

        // A window's records come in sequence order, after the windows before: each user's next entries, in order.
        foreach (var (tag, users) in indexes)
        {
            writes.Add(UserIndex.AppendAsync(db, tag, users));
        }

        await Task.WhenAll(writes).WaitAsync(cancellationToken);
        return (copied, unreadable);
    }

    // A snapshot written at position X of the one-partition log covers X in every new partition (see the class).
    private async Task ConvertSnapshotAsync(SnapshotKeys keys, int partitions, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        LogPosition? published = null;
        foreach (var key in new[] { keys.Published, keys.Checkpoint })
        {
            var bytes = (byte[]?)await db.StringGetAsync(key).WaitAsync(cancellationToken);
            if (bytes is null)
            {
                continue;
            }

            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            var position = LogPosition.ReadFrom(reader);
            if (position.Partitions != 1)
            {
                continue;
            }

            var converted = LogPosition.Of([.. Enumerable.Repeat(position[0], partitions)]);
            var stream = new MemoryStream(bytes.Length + (8 * partitions));
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                converted.WriteTo(writer);
                writer.Write(bytes, (int)reader.BaseStream.Position, bytes.Length - (int)reader.BaseStream.Position);
            }

            await db.StringSetAsync(key, stream.ToArray()).WaitAsync(cancellationToken);
            if (key == keys.Published)
            {
                published = converted;
            }
        }

        if (published is not null)
        {
            await db.StringSetAsync(keys.Position, published.Total).WaitAsync(cancellationToken);
        }
    }

    private async Task DeleteOldLogAsync(string tenant, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var today = _time.GetUtcNow().ToUnixTimeSeconds() / 86_400;
        var back = (long)Math.Ceiling(options.DedupWindow.TotalDays) + 1;
        var keys = new List<RedisKey> { RedisKeys.Log(tenant), RedisKeys.LogSequence(tenant), RedisKeys.LogFirst(tenant), RedisKeys.LogEventIds(tenant) };
        for (var d = 0; d <= back; d++)
        {
            keys.Add(RedisKeys.LogEventIds(tenant, today - d));
        }

        // The users' indexes, the record keys and the id keys: the tenant's own hash tag puts them on one master; found by name on each.
        foreach (var pattern in UserIndex.Patterns(tenant).Append(RedisKeys.LogRecordPrefix(tenant) + "*").Append(RedisKeys.LogEventIdPrefix(tenant) + "*"))
        {
            foreach (var server in redis.GetServers().Where(s => !s.IsReplica && s.IsConnected))
            {
                await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1_000).WithCancellation(cancellationToken))
                {
                    keys.Add(key);
                }
            }
        }

        foreach (var chunk in keys.Chunk(1_000))
        {
            // One key a call: a cluster refuses a DEL over several slots, and these share one only per tenant tag.
            await Task.WhenAll(chunk.Select(key => db.KeyDeleteAsync(key))).WaitAsync(cancellationToken);
        }

        await barrier.WaitDurableAsync(cancellationToken);
    }
}
