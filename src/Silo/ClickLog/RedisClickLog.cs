namespace SessionRec.Silo.ClickLog;

using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The click log on any Redis-protocol server with Lua (Redis 6+, Garnet with Lua enabled). A tenant's log is
/// <see cref="ClickLogOptions.Partitions"/> partitions by user (<see cref="LogPartitioning"/>), each under its own
/// hash tag with: a string key per record (<see cref="RedisKeys.LogRecord"/>; records written before those keys stay
/// in a hash sequence → record, read where a key is missing), a counter, the dedup index — a string key per event id
/// (<see cref="RedisKeys.LogEventId"/>) remembered for <see cref="ClickLogOptions.DedupWindow"/> and a day, then expiring;
/// the day hashes of releases before are read until <see cref="LegacyDedupMigration"/> has moved their ids — and an index of sequences per user
/// (<see cref="UserIndex"/>: for erasure and for replaying one user's records). One Lua script per partition looks
/// the event ids up and appends, so a retry within the window can never append twice; the
/// API refuses events older than the window (<c>EventWindow.For</c>), so no retry can outlive its id. A batch's
/// partitions are appended in parallel (on a Redis Cluster, on their own shards), then made durable together.
/// Streams are not used because Garnet, the embedded default's server, has none.
/// </summary>
public sealed class RedisClickLog(IConnectionMultiplexer redis, IWriteBarrier barrier, IOptions<ClickLogOptions>? options = null, TimeProvider? time = null, ILogger<RedisClickLog>? logger = null) : IClickLog
{
    // KEYS: seq, then the dedup hashes of releases before 2026-12-03 that may still hold ids: the unbounded one, then
    // one per day of the window. ARGV: now (unix seconds), how long an id is remembered in seconds (also the unbounded
    // hash's expiry, given once), the partition's key prefix (record keys, id keys and the users' indexes are made
    // here; they share the partition's hash tag), then event id, user id and record per event.
    // Returns, per event, the new sequence number, or minus the earlier one for an id already logged (by an earlier
    // append or earlier in this batch).
    // The batch's ids are looked up with one MGET (the old hashes only while one exists: one EXISTS) and written with a
    // SET each, records with one MSET; each user's new sequences go to its index in one INCRBY and a write per chunk
    // (measured: a command per hash per event, ~13 per event, was most of the script's time; a sorted-set entry per
    // event, ~25% of the service's).
    private const string AppendScript = UserIndex.Lua + DedupLua + """
        local unpack = unpack or table.unpack
        local now, life = tonumber(ARGV[1]), tonumber(ARGV[2])
        local lp = ARGV[3]
        local prefix = lp .. 'r:'
        local n = (#ARGV - 3) / 3
        local ids = {}
        for i = 1, n do
          ids[i] = ARGV[1 + 3 * i]
        end
        local found, missing = dedup_find(lp, ids, now)
        if missing > 0 and #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) > 0 then
          for k = 2, #KEYS do
            if missing == 0 then
              break
            end
            local got = redis.call('HMGET', KEYS[k], unpack(ids))
            for i = 1, n do
              if not found[i] and got[i] then
                found[i] = tonumber(got[i])
                missing = missing - 1
              end
            end
          end
          if redis.call('TTL', KEYS[2]) == -1 then
            redis.call('EXPIRE', KEYS[2], life)
          end
        end
        local slot, m = {}, 0
        for i = 1, n do
          if not found[i] and not slot[ids[i]] then
            m = m + 1
            slot[ids[i]] = m
          end
        end
        local out = {}
        if m > 0 then
          local base = redis.call('INCRBY', KEYS[1], m) - m
          local written, recordArgs, batch = {}, {}, index_batch()
          for i = 1, n do
            if found[i] then
              out[i] = -found[i]
            else
              local j = slot[ids[i]]
              local seq = base + j
              if written[j] then
                out[i] = -seq
              else
                written[j] = true
                dedup_remember(lp, ids[i], seq, now, life)
                recordArgs[#recordArgs + 1] = prefix .. seq
                recordArgs[#recordArgs + 1] = ARGV[3 + 3 * i]
                index_add(batch, ARGV[2 + 3 * i], seq)
                out[i] = seq
              end
            end
          end
          redis.call('MSET', unpack(recordArgs))
          index_append_batch(lp, batch)
        else
          for i = 1, n do
            out[i] = -found[i]
          end
        end
        return out
        """;

    // KEYS: seq. ARGV: the partition's key prefix, then user id and record per record. One block of sequence numbers, one
    // MSET of records and each user's index entries together (a served list is logged on every request: the id checks
    // of AppendScript were most of its cost). Served ids are not remembered for deduplication: clients are refused
    // them (ServedIds), and remembered they were an id key per served list for the whole window. Returns the records'
    // sequence numbers.
    private const string AppendServedScript = UserIndex.Lua + """
        local unpack = unpack or table.unpack
        local lp = ARGV[1]
        local n = math.floor((#ARGV - 1) / 2)
        local prefix = lp .. 'r:'
        local last = redis.call('INCRBY', KEYS[1], n)
        local records, out, batch = {}, {}, index_batch()
        for i = 1, n do
          local seq = last - n + i
          records[2 * i - 1] = prefix .. seq
          records[2 * i] = ARGV[2 * i + 1]
          index_add(batch, ARGV[2 * i], seq)
          out[i] = seq
        end
        redis.call('MSET', unpack(records))
        index_append_batch(lp, batch)
        return out
        """;

    // The dedup index's Lua (see RedisKeys.LogEventId): an id key holds "sequence:remembered-until". The time is in the
    // value as well as in the key's expiry so the window is the service's clock's, not the store's.
    // dedup_find(lp, ids, now) returns, per id, its sequence where it is still remembered, and how many are not;
    // dedup_remember(lp, id, seq, now, life) remembers it for life seconds.
    internal const string DedupLua = """
        local dedup_unpack = unpack or table.unpack
        local function dedup_find(lp, ids, now)
          local keys = {}
          for i = 1, #ids do
            keys[i] = lp .. 'e:' .. ids[i]
          end
          local got = redis.call('MGET', dedup_unpack(keys))
          local found, missing = {}, #ids
          for i = 1, #ids do
            local v = got[i]
            if v then
              local c = string.find(v, ':', 1, true)
              if tonumber(string.sub(v, c + 1)) > now then
                found[i] = tonumber(string.sub(v, 1, c - 1))
                missing = missing - 1
              end
            end
          end
          return found, missing
        end
        local function dedup_remember(lp, id, seq, now, life)
          redis.call('SET', lp .. 'e:' .. id, string.format('%d:%d', seq, now + life), 'EX', life)
        end

        """;

    // KEYS: the hash of records before record keys, then every dedup hash of before that may hold the ids (the
    // unbounded one and each day of the window). ARGV: the partition's key prefix, the user, then the sequences of the
    // user's records (ascending, read beforehand from the index), then their event ids.
    // Removes exactly those records and ids and the index's entries up to the last of them (entries appended since
    // are above it); returns { removed, entries still indexed for the user }.
    private const string EraseScript = UserIndex.Lua + """
        local unpack = unpack or table.unpack
        local lp, user = ARGV[1], ARGV[2]
        local prefix = lp .. 'r:'
        local n = (#ARGV - 2) / 2
        local old = #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) > 0
        local removed, upto = 0, 0
        for i = 3, n + 2 do
          removed = removed + redis.call('DEL', prefix .. ARGV[i]) + redis.call('HDEL', KEYS[1], ARGV[i])
          upto = math.max(upto, tonumber(ARGV[i]))
          if ARGV[n + i] ~= '' then
            redis.call('DEL', lp .. 'e:' .. ARGV[n + i])
            if old then
              for k = 2, #KEYS do
                redis.call('HDEL', KEYS[k], ARGV[n + i])
              end
            end
          end
        end
        return { removed, index_trim(lp, user, upto) }
        """;

    // KEYS: the tenant's partition count, its log's counter before partitions. ARGV: the count a new log gets, and
    // 1 to fix it (a writer) or 0 (a reader of a log not started: it reads nothing either way, and leaves no key).
    // A log that already has records and no count was written before partitions: it has one.
    // Returns the count, negative when it is not fixed in the store.
    private const string PartitionsScript = """
        local p = redis.call('GET', KEYS[1])
        if p then
          return tonumber(p)
        end
        if redis.call('EXISTS', KEYS[2]) == 1 then
          p = 1
        elseif ARGV[2] == '1' then
          p = tonumber(ARGV[1])
        else
          return -tonumber(ARGV[1])
        end
        redis.call('SET', KEYS[1], p)
        return p
        """;

    // KEYS: the hash of records before record keys, first. ARGV: the new first sequence, the partition's key prefix,
    // then sequence and user per record (ascending). A user's dropped records are the oldest it has: its index loses
    // the entries up to the last of them.
    private const string DropScript = UserIndex.Lua + """
        local unpack = unpack or table.unpack
        local lp = ARGV[2]
        local prefix = lp .. 'r:'
        local n = (#ARGV - 2) / 2
        if n > 0 then
          local seqs, keys, upto, users = {}, {}, {}, {}
          for i = 1, n do
            local seq, user = ARGV[1 + 2 * i], ARGV[2 + 2 * i]
            seqs[i] = seq
            keys[i] = prefix .. seq
            if not upto[user] then
              users[#users + 1] = user
            end
            upto[user] = math.max(upto[user] or 0, tonumber(seq))
          end
          redis.call('DEL', unpack(keys))
          redis.call('HDEL', KEYS[1], unpack(seqs))
          for _, user in ipairs(users) do
            index_trim(lp, user, upto[user])
          end
        end
        local first = tonumber(redis.call('GET', KEYS[2]) or '1')
        if tonumber(ARGV[1]) > first then
          redis.call('SET', KEYS[2], ARGV[1])
        end
        return 1
        """;

    // KEYS: the partition's counter (it routes the script to the partition's server). ARGV: the partition's key prefix,
    // the user, after, limit. Returns the user's sequences above after (at most limit), ascending.
    private const string ReadIndexScript = UserIndex.Lua + """
        return index_read(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
        """;

    // KEYS: the partition's counter. ARGV: the partition's key prefix, the user. Returns the entries of the user's index.
    private const string CountIndexScript = UserIndex.Lua + """
        local n, f = index_bounds(ARGV[1], ARGV[2])
        return n - f + redis.call('ZCARD', ARGV[1] .. 'user:' .. ARGV[2])
        """;

    private readonly LegacyDedupMigration _legacy = new(redis);
    private readonly TimeSpan _window = options?.Value.DedupWindow ?? EventContract.EventWindow.DefaultDedupWindow;
    private readonly int _configuredPartitions = options?.Value.Partitions ?? 0;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // A tenant's count never changes once set: read once per process.
    private readonly ConcurrentDictionary<string, int> _partitions = new(StringComparer.Ordinal);

    /// <summary>
    /// Now, in unix seconds; how long an id is remembered from now (the window and a day: an event may be up to the
    /// allowed future skew ahead of its arrival, and clocks of processes differ); and the days whose dedup hashes of
    /// releases before 2026-12-03 may still hold ids of the window (today first).
    /// </summary>
    private (long Now, long Life, long[] OldDays) Window()
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var today = now / 86_400;
        var back = (long)Math.Ceiling(_window.TotalDays);
        var days = new long[back + 1];
        for (var d = 0; d <= back; d++)
        {
            days[d] = today - d;
        }

        return (now, IdLife(_window), days);
    }

    /// <summary>How many seconds an id is remembered after it arrives: the window and a day (see <see cref="Window"/>).</summary>
    internal static long IdLife(TimeSpan window) => (long)Math.Ceiling((window + TimeSpan.FromDays(1)).TotalSeconds);

    private const int MaxErasePasses = 20;

    public Task<int> PartitionsAsync(string tenant, CancellationToken cancellationToken = default) => PartitionsAsync(tenant, write: false, cancellationToken);

    private async Task<int> PartitionsAsync(string tenant, bool write, CancellationToken cancellationToken)
    {
        if (_partitions.TryGetValue(tenant, out var known))
        {
            return known;
        }

        var wanted = _configuredPartitions > 0 ? _configuredPartitions
            : redis.GetServers().Any(s => s.ServerType == ServerType.Cluster) ? ClickLogOptions.ClusterPartitions : 1;
        var count = (int)(long)(await redis.GetDatabase().ScriptEvaluateAsync(
            PartitionsScript, [RedisKeys.LogPartitions(tenant), RedisKeys.LogSequence(tenant)], [wanted, write ? 1 : 0]).WaitAsync(cancellationToken));
        return count > 0 ? _partitions.GetOrAdd(tenant, count) : -count;
    }

    /// <summary>The hash tag of the user's partition, and its index.</summary>
    private async Task<(string Tag, int Partition)> UserPartitionAsync(string tenant, string userId, CancellationToken cancellationToken)
    {
        var partitions = await PartitionsAsync(tenant, cancellationToken);
        var partition = LogPartitioning.Of(userId, partitions);
        return (RedisKeys.LogTag(tenant, partition, partitions), partition);
    }

    public async Task<IReadOnlyList<AppendResult>> AppendAsync(string tenant, IReadOnlyList<UserEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var outcomes = new AppendResult[events.Count];
        await PerPartitionAsync(tenant, events, (tag, part, indexes) => AppendToPartitionAsync(tag, part, indexes, outcomes, cancellationToken), cancellationToken);
        await barrier.WaitDurableAsync(cancellationToken);
        return outcomes;
    }

    /// <summary>
    /// Runs <paramref name="append"/> once per partition the records fall in, all at once, with the partition's hash
    /// tag, its records and their indexes in <paramref name="records"/> (null for a log of one partition: all, in order).
    /// </summary>
    private async Task PerPartitionAsync(
        string tenant, IReadOnlyList<UserEvent> records, Func<string, IReadOnlyList<UserEvent>, IReadOnlyList<int>?, Task> append, CancellationToken cancellationToken)
    {
        var partitions = await PartitionsAsync(tenant, write: true, cancellationToken);
        if (partitions == 1)
        {
            await append(tenant, records, null);
            return;
        }

        await Task.WhenAll(LogPartitioning.Split(records, e => e.UserId, partitions).Select(part =>
            append(RedisKeys.LogTag(tenant, part.Partition, partitions), part.Items, part.Indexes)));
    }

    // Appends events of one partition (tag); their outcomes go to outcomes[indexes[i]] (indexes null: in order).
    private async Task AppendToPartitionAsync(string tag, IReadOnlyList<UserEvent> events, IReadOnlyList<int>? indexes, AppendResult[] outcomes, CancellationToken cancellationToken)
    {
        var (now, life, days) = Window();
        var keys = new RedisKey[2 + days.Length];
        keys[0] = RedisKeys.LogSequence(tag);
        keys[1] = RedisKeys.LogEventIds(tag);
        for (var d = 0; d < days.Length; d++)
        {
            keys[2 + d] = RedisKeys.LogEventIds(tag, days[d]);
        }

        _legacy.EnsureStarted(tag, keys[1..], now, life);
        var args = new RedisValue[3 + (events.Count * 3)];
        args[0] = now;
        args[1] = life;
        args[2] = UserIndex.LogPrefix(tag);
        for (var i = 0; i < events.Count; i++)
        {
            args[3 + (3 * i)] = events[i].EventId;
            args[4 + (3 * i)] = events[i].UserId;
            args[5 + (3 * i)] = JsonSerializer.SerializeToUtf8Bytes(events[i], ServiceJson.Options);
        }

        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(AppendScript, keys, args).WaitAsync(cancellationToken))!;
        for (var i = 0; i < events.Count; i++)
        {
            var seq = (long)result[i];
            outcomes[indexes?[i] ?? i] = seq > 0 ? new AppendResult(AppendOutcome.Appended, seq) : new AppendResult(AppendOutcome.Duplicate, -seq);
        }
    }

    public async Task<IReadOnlyList<long>> AppendServedAsync(string tenant, IReadOnlyList<UserEvent> records, CancellationToken cancellationToken = default)
    {
        if (records.Count == 0)
        {
            return [];
        }

        var sequences = new long[records.Count];
        await PerPartitionAsync(tenant, records, (tag, part, indexes) => AppendServedToPartitionAsync(tag, part, indexes, sequences, cancellationToken), cancellationToken);
        return sequences;
    }

    private async Task AppendServedToPartitionAsync(string tag, IReadOnlyList<UserEvent> records, IReadOnlyList<int>? indexes, long[] sequences, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [RedisKeys.LogSequence(tag)];
        var args = new RedisValue[1 + (records.Count * 2)];
        args[0] = UserIndex.LogPrefix(tag);
        for (var i = 0; i < records.Count; i++)
        {
            args[1 + (2 * i)] = records[i].UserId;
            args[2 + (2 * i)] = JsonSerializer.SerializeToUtf8Bytes(records[i], ServiceJson.Options);
        }

        // No durability wait (see IClickLog): the embedded store commits each write on its own, a Redis server per its
        // AOF policy; waiting for the commit here cost the suggestion path ~2% of its CPU for nothing anyone awaits.
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(AppendServedScript, keys, args).WaitAsync(cancellationToken))!;
        for (var i = 0; i < records.Count; i++)
        {
            sequences[indexes?[i] ?? i] = (long)result[i];
        }
    }

    public async Task<LogPosition> LastPositionAsync(string tenant, CancellationToken cancellationToken = default)
    {
        var partitions = await PartitionsAsync(tenant, cancellationToken);
        var db = redis.GetDatabase();
        var last = await Task.WhenAll(Enumerable.Range(0, partitions).Select(async p =>
            (long?)await db.StringGetAsync(RedisKeys.LogSequence(RedisKeys.LogTag(tenant, p, partitions))) ?? 0)).WaitAsync(cancellationToken);
        return LogPosition.Of(last);
    }

    public async Task<long> FirstSequenceAsync(string tenant, int partition, CancellationToken cancellationToken = default)
    {
        var partitions = await PartitionsAsync(tenant, cancellationToken);
        return (long?)await redis.GetDatabase().StringGetAsync(RedisKeys.LogFirst(RedisKeys.LogTag(tenant, partition, partitions))).WaitAsync(cancellationToken) ?? 1;
    }

    public async Task DropOldestAsync(string tenant, int partition, IReadOnlyList<ClickLogRecord> records, long through, CancellationToken cancellationToken = default)
    {
        var tag = RedisKeys.LogTag(tenant, partition, await PartitionsAsync(tenant, cancellationToken));
        RedisKey[] keys = [RedisKeys.Log(tag), RedisKeys.LogFirst(tag)];
        var args = new RedisValue[2 + (records.Count * 2)];
        args[0] = through + 1;
        args[1] = UserIndex.LogPrefix(tag);
        for (var i = 0; i < records.Count; i++)
        {
            args[2 + (2 * i)] = records[i].Sequence;
            args[3 + (2 * i)] = records[i].Event.UserId;
        }

        await redis.GetDatabase().ScriptEvaluateAsync(DropScript, keys, args).WaitAsync(cancellationToken);
        await barrier.WaitDurableAsync(cancellationToken);
    }

    public async Task<ClickLogPage> ReadAsync(string tenant, LogPosition after, int limit, CancellationToken cancellationToken = default)
    {
        var partitions = await PartitionsAsync(tenant, cancellationToken);
        if (after.Partitions != partitions)
        {
            throw new ArgumentException($"The position has {after.Partitions} partitions; the tenant's log has {partitions}.", nameof(after));
        }

        if (partitions == 1)
        {
            var (records, more) = await ReadWindowAsync(tenant, 0, after[0] + 1, limit, await BoundsAsync(tenant, cancellationToken), cancellationToken);
            return new ClickLogPage(records, more);
        }

        // Each partition reads a share of the limit in proportion to what it holds after the position (at least one
        // record): the merge then stops where the first page with more behind it runs out, so it never passes
        // records a partition has not read yet, and the shares make that late in the page when partitions are uneven.
        var tags = Enumerable.Range(0, partitions).Select(p => RedisKeys.LogTag(tenant, p, partitions)).ToArray();
        var bounds = await Task.WhenAll(tags.Select(tag => BoundsAsync(tag, cancellationToken)));
        var from = new long[partitions];
        var behind = new long[partitions];
        for (var p = 0; p < partitions; p++)
        {
            from[p] = Math.Max(after[p] + 1, bounds[p].First);
            behind[p] = Math.Max(0, bounds[p].Last - from[p] + 1);
        }

        var total = behind.Sum();
        var pages = await Task.WhenAll(Enumerable.Range(0, partitions).Select(p =>
        {
            var share = total == 0 ? 1 : (int)Math.Max(1, Math.Ceiling((double)limit * behind[p] / total));
            return ReadWindowAsync(tags[p], p, from[p], share, bounds[p], cancellationToken);
        }));
        return LogMerge.Merge(pages, limit);
    }

    public async Task<IReadOnlyList<ClickLogRecord>> ReadPartitionAsync(string tenant, int partition, long fromSequence, int limit, CancellationToken cancellationToken = default)
    {
        var tag = RedisKeys.LogTag(tenant, partition, await PartitionsAsync(tenant, cancellationToken));
        return (await ReadWindowAsync(tag, partition, fromSequence, limit, await BoundsAsync(tag, cancellationToken), cancellationToken)).Records;
    }

    // A partition's last sequence and first still held (retention drops records before it).
    private async Task<(long Last, long First)> BoundsAsync(string tag, CancellationToken cancellationToken)
    {
        var bounds = await redis.GetDatabase().StringGetAsync([RedisKeys.LogSequence(tag), RedisKeys.LogFirst(tag)]).WaitAsync(cancellationToken);
        return ((long?)bounds[0] ?? 0, (long?)bounds[1] ?? 1);
    }

    // One partition's records from fromSequence on (at most limit), and whether it holds more after them.
    private async Task<(List<ClickLogRecord> Records, bool More)> ReadWindowAsync(
        string tag, int partition, long fromSequence, int limit, (long Last, long First) bounds, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var records = new List<ClickLogRecord>();

        // Records before the first sequence were dropped by retention: a reader behind it starts there.
        var from = Math.Max(Math.Max(1, fromSequence), bounds.First);

        // Erased records leave gaps; keep reading windows until the limit is filled or the log ends.
        while (records.Count < limit && from <= bounds.Last)
        {
            var count = (int)Math.Min(Math.Max(limit - records.Count, 64), bounds.Last - from + 1);
            var sequences = new long[count];
            for (var i = 0; i < count; i++)
            {
                sequences[i] = from + i;
            }

            var values = await ReadRecordsAsync(db, tag, sequences).WaitAsync(cancellationToken);
            var used = 0;
            for (; used < values.Length && records.Count < limit; used++)
            {
                if (!values[used].IsNull && StoredEvents.TryRead(values[used], tag, from + used, logger, out var evt))
                {
                    records.Add(new ClickLogRecord(from + used, evt) { Partition = partition });
                }
            }

            from += used;
        }

        return (records, from <= bounds.Last);
    }

    /// <summary>
    /// The stored records of these sequences of one partition (null where there is none): from their record keys, and
    /// from the hash that held records before those keys existed for any the keys do not have.
    /// </summary>
    internal static async Task<RedisValue[]> ReadRecordsAsync(IDatabase db, string tag, IReadOnlyList<long> sequences)
    {
        var keys = new RedisKey[sequences.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = RedisKeys.LogRecord(tag, sequences[i]);
        }

        var values = await db.StringGetAsync(keys);
        var missing = new List<int>();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].IsNull)
            {
                missing.Add(i);
            }
        }

        // Gaps are rare (an erasure, or a log older than record keys), so the common read is one command.
        if (missing.Count > 0)
        {
            var old = await db.HashGetAsync(RedisKeys.Log(tag), [.. missing.Select(i => (RedisValue)sequences[i])]);
            for (var j = 0; j < missing.Count; j++)
            {
                values[missing[j]] = old[j];
            }
        }

        return values;
    }

    public async Task<IReadOnlyList<ClickLogRecord>> ReadUserAsync(string tenant, string userId, long afterSequence, int limit, CancellationToken cancellationToken = default)
    {
        var (tag, partition) = await UserPartitionAsync(tenant, userId, cancellationToken);
        var db = redis.GetDatabase();
        var seqs = await ReadIndexAsync(db, tag, userId, afterSequence, limit).WaitAsync(cancellationToken);
        if (seqs.Length == 0)
        {
            return [];
        }

        var values = await ReadRecordsAsync(db, tag, seqs).WaitAsync(cancellationToken);
        var records = new List<ClickLogRecord>(values.Length);
        for (var i = 0; i < values.Length; i++)
        {
            if (!values[i].IsNull && StoredEvents.TryRead(values[i], tag, seqs[i], logger, out var evt))
            {
                records.Add(new ClickLogRecord(seqs[i], evt) { Partition = partition });
            }
        }

        return records;
    }

    // The sequences of the user's records above afterSequence, ascending, at most limit (see UserIndex).
    private static async Task<long[]> ReadIndexAsync(IDatabase db, string tag, string userId, long afterSequence, int limit) =>
        (long[])(await db.ScriptEvaluateAsync(ReadIndexScript, [RedisKeys.LogSequence(tag)], [UserIndex.LogPrefix(tag), userId, afterSequence, limit]))!;

    public async Task<int> EraseUserAsync(string tenant, string userId, CancellationToken cancellationToken = default)
    {
        // Records appended while an erasure runs join the user's index after it was read: erase in passes until
        // the index is empty, and fail rather than report an erasure that left records behind.
        var (tag, _) = await UserPartitionAsync(tenant, userId, cancellationToken);
        var db = redis.GetDatabase();
        var total = 0;
        for (var pass = 0; pass < MaxErasePasses; pass++)
        {
            var seqs = await ReadIndexAsync(db, tag, userId, 0, int.MaxValue).WaitAsync(cancellationToken);
            var args = new RedisValue[2 + (seqs.Length * 2)];
            args[0] = UserIndex.LogPrefix(tag);
            args[1] = userId;
            if (seqs.Length > 0)
            {
                var values = await ReadRecordsAsync(db, tag, seqs).WaitAsync(cancellationToken);
                for (var i = 0; i < seqs.Length; i++)
                {
                    args[2 + i] = seqs[i];

                    // A record already gone, or unreadable, is still removed with its index entry; its id slot is a
                    // no-op (an unreadable record's event id cannot be read; it expires with the dedup window).
                    args[2 + seqs.Length + i] = !values[i].IsNull && StoredEvents.TryRead(values[i], tag, seqs[i], logger, out var evt)
                        ? evt.EventId
                        : RedisValue.EmptyString;
                }
            }

            RedisKey[] keys = [RedisKeys.Log(tag), RedisKeys.LogEventIds(tag), .. Window().OldDays.Select(day => RedisKeys.LogEventIds(tag, day))];
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(EraseScript, keys, args).WaitAsync(cancellationToken))!;
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
    public async Task<long> CountUserAsync(string tenant, string userId, CancellationToken cancellationToken = default)
    {
        var (tag, _) = await UserPartitionAsync(tenant, userId, cancellationToken);
        return (long)await redis.GetDatabase().ScriptEvaluateAsync(CountIndexScript, [RedisKeys.LogSequence(tag)], [UserIndex.LogPrefix(tag), userId]).WaitAsync(cancellationToken);
    }
}
