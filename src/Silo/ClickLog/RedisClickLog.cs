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

    // KEYS: log, ids, user index. ARGV: the event ids of the user's records (read beforehand).
    private const string EraseScript = """
        local seqs = redis.call('ZRANGE', KEYS[3], 0, -1)
        local removed = 0
        for _, seq in ipairs(seqs) do
          removed = removed + redis.call('HDEL', KEYS[1], seq)
        end
        for _, id in ipairs(ARGV) do
          redis.call('HDEL', KEYS[2], id)
        end
        redis.call('DEL', KEYS[3])
        return removed
        """;

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
        var db = redis.GetDatabase();
        var index = RedisKeys.LogUserIndex(tenant, userId);
        var seqs = await db.SortedSetRangeByRankAsync(index).WaitAsync(cancellationToken);
        var eventIds = new List<RedisValue>(seqs.Length);
        if (seqs.Length > 0)
        {
            var values = await db.HashGetAsync(RedisKeys.Log(tenant), seqs).WaitAsync(cancellationToken);
            foreach (var value in values)
            {
                if (!value.IsNull)
                {
                    eventIds.Add(JsonSerializer.Deserialize<UserEvent>((byte[])value!, ServiceJson.Options)!.EventId);
                }
            }
        }

        var removed = await db.ScriptEvaluateAsync(
            EraseScript,
            [RedisKeys.Log(tenant), RedisKeys.LogEventIds(tenant), index],
            [.. eventIds]).WaitAsync(cancellationToken);
        await barrier.WaitDurableAsync(cancellationToken);
        return (int)(long)removed;
    }
}
