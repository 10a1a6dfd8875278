namespace SessionRec.Silo.ClickLog;

using System.Text.Json;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The click log on any Redis-protocol server with Lua (Redis 6+, Garnet with Lua enabled). Per tenant:
/// a hash sequence → record, a counter, a hash event id → sequence (the dedup index) and a sorted set of
/// sequences per user (for erasure and for replaying one user's records). One Lua script checks the event id and appends, so a retry can never append twice.
/// Streams are not used because Garnet, the embedded default's server, has none.
/// </summary>
public sealed class RedisClickLog(IConnectionMultiplexer redis, IWriteBarrier barrier) : IClickLog
{
    // KEYS: log, seq, ids, then one user-index key per event. ARGV: event id and record, per event.
    // Returns, per event, the new sequence number, or minus the earlier one for an id already logged.
    private const string AppendScript = """
        local out = {}
        local n = #ARGV / 2
        for i = 1, n do
          local id = ARGV[2 * i - 1]
          local existing = redis.call('HGET', KEYS[3], id)
          if existing then
            out[i] = -tonumber(existing)
          else
            local seq = redis.call('INCR', KEYS[2])
            redis.call('HSET', KEYS[3], id, seq)
            redis.call('HSET', KEYS[1], seq, ARGV[2 * i])
            redis.call('ZADD', KEYS[3 + i], seq, seq)
            out[i] = seq
          end
        end
        return out
        """;

    // KEYS: log, ids, user index. ARGV: sequences, then the event ids of those records (read beforehand).
    // Removes exactly those records and ids; returns { removed, records still indexed for the user }.
    private const string EraseScript = """
        local n = #ARGV / 2
        local removed = 0
        for i = 1, n do
          removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
          redis.call('ZREM', KEYS[3], ARGV[i])
          redis.call('HDEL', KEYS[2], ARGV[n + i])
        end
        local left = redis.call('ZCARD', KEYS[3])
        if left == 0 then
          redis.call('DEL', KEYS[3])
        end
        return { removed, left }
        """;

    private const int MaxErasePasses = 20;

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(string tenant, IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var keys = new RedisKey[3 + events.Count];
        keys[0] = RedisKeys.Log(tenant);
        keys[1] = RedisKeys.LogSequence(tenant);
        keys[2] = RedisKeys.LogEventIds(tenant);
        var args = new RedisValue[events.Count * 2];
        for (var i = 0; i < events.Count; i++)
        {
            keys[3 + i] = RedisKeys.LogUserIndex(tenant, events[i].UserId);
            args[2 * i] = events[i].EventId;
            args[2 * i + 1] = JsonSerializer.SerializeToUtf8Bytes(events[i], ServiceJson.Options);
        }

        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(AppendScript, keys, args).WaitAsync(cancellationToken))!;
        await barrier.WaitDurableAsync(cancellationToken);
        var outcomes = new AppendResult[events.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var seq = (long)result[i];
            outcomes[i] = seq > 0 ? new AppendResult(AppendOutcome.Appended, seq) : new AppendResult(AppendOutcome.Duplicate, -seq);
        }

        return outcomes;
    }

    public async Task<long> LastSequenceAsync(string tenant, CancellationToken cancellationToken = default) =>
        (long?)await redis.GetDatabase().StringGetAsync(RedisKeys.LogSequence(tenant)).WaitAsync(cancellationToken) ?? 0;

    public async Task<IReadOnlyList<ClickLogRecord>> ReadAsync(string tenant, long fromSequence, int limit, CancellationToken cancellationToken = default)
    {
        var db = redis.GetDatabase();
        var last = await LastSequenceAsync(tenant, cancellationToken);
        var records = new List<ClickLogRecord>();
        var from = Math.Max(1, fromSequence);

        // Erased records leave gaps; keep reading windows until the limit is filled or the log ends.
        while (records.Count < limit && from <= last)
        {
            var count = (int)Math.Min(Math.Max(limit - records.Count, 64), last - from + 1);
            var fields = new RedisValue[count];
            for (var i = 0; i < count; i++)
            {
                fields[i] = from + i;
            }

            var values = await db.HashGetAsync(RedisKeys.Log(tenant), fields).WaitAsync(cancellationToken);
            for (var i = 0; i < values.Length && records.Count < limit; i++)
            {
                if (!values[i].IsNull)
                {
                    var evt = JsonSerializer.Deserialize<UserEvent>((byte[])values[i]!, ServiceJson.Options)!;
                    records.Add(new ClickLogRecord(from + i, evt));
                }
            }

            from += count;
        }

        return records;
    }

    public async Task<IReadOnlyList<ClickLogRecord>> ReadUserAsync(string tenant, string userId, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        var db = redis.GetDatabase();
        var seqs = await db.SortedSetRangeByScoreAsync(
            RedisKeys.LogUserIndex(tenant, userId), afterSequence, double.PositiveInfinity, Exclude.Start, take: limit).WaitAsync(cancellationToken);
        if (seqs.Length == 0)
        {
            return [];
        }

        var values = await db.HashGetAsync(RedisKeys.Log(tenant), seqs).WaitAsync(cancellationToken);
        var records = new List<ClickLogRecord>(values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            if (!values[i].IsNull)
            {
                records.Add(new ClickLogRecord((long)seqs[i], JsonSerializer.Deserialize<UserEvent>((byte[])values[i]!, ServiceJson.Options)!));
            }
        }

        return records;
    }

    public async Task<int> EraseUserAsync(string tenant, string userId, CancellationToken cancellationToken = default)
    {
        // Records appended while an erasure runs join the user's index after it was read: erase in passes until
        // the index is empty, and fail rather than report an erasure that left records behind.
        var db = redis.GetDatabase();
        var index = RedisKeys.LogUserIndex(tenant, userId);
        var total = 0;
        for (var pass = 0; pass < MaxErasePasses; pass++)
        {
            var seqs = await db.SortedSetRangeByRankAsync(index).WaitAsync(cancellationToken);
            var args = new RedisValue[seqs.Length * 2];
            if (seqs.Length > 0)
            {
                var values = await db.HashGetAsync(RedisKeys.Log(tenant), seqs).WaitAsync(cancellationToken);
                for (var i = 0; i < seqs.Length; i++)
                {
                    args[i] = seqs[i];

                    // A record already gone still has its sequence removed from the index; its id slot is a no-op.
                    args[seqs.Length + i] = values[i].IsNull
                        ? RedisValue.EmptyString
                        : JsonSerializer.Deserialize<UserEvent>((byte[])values[i]!, ServiceJson.Options)!.EventId;
                }
            }

            var result = (RedisResult[])(await db.ScriptEvaluateAsync(
                EraseScript,
                [RedisKeys.Log(tenant), RedisKeys.LogEventIds(tenant), index],
                args).WaitAsync(cancellationToken))!;
            total += (int)(long)result[0];
            if ((long)result[1] == 0)
            {
                await barrier.WaitDurableAsync(cancellationToken);
                return total;
            }
        }

        throw new ErasureIncompleteException($"The user's click-log records kept arriving during {MaxErasePasses} erasure passes.");
    }

    /// <summary>How many click-log records the user has (the per-user index: erasure's proof that none is left).</summary>
    public async Task<long> CountUserAsync(string tenant, string userId, CancellationToken cancellationToken = default) =>
        await redis.GetDatabase().SortedSetLengthAsync(RedisKeys.LogUserIndex(tenant, userId)).WaitAsync(cancellationToken);
}
