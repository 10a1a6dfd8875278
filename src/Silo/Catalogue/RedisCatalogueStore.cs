namespace SessionRec.Silo.Catalogue;

using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionRec.Abstractions.Catalogue;
using SessionRec.ServiceDefaults;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// A tenant's catalogue as one string key per item (item id → item JSON), a count of them, and its change feed: a
/// counter bumped by every write and a sorted set item id → the counter value of its last change, written in the same
/// script as the item, so a replica that read counter v finds every change up to v. The feed holds one entry per item
/// in the catalogue and one per deleted item among the newest <see cref="TombstonesKept"/> deletions (so a replica learns
/// of a deletion); an older deletion leaves the feed and raises its floor, and a reader behind the floor is told it
/// cannot follow (<see cref="ChangedAsync"/> returns null) and loads in full. A full load walks the feed.
/// <para>Until 2026-12-03 the items were fields of one hash per tenant: one object of the whole catalogue in the
/// store (rewritten whole wherever the embedded store copies or checkpoints it, and lost whole if its record cannot be
/// read back). Such a hash is still read — every read asks it too, and a string key wins — and is emptied into item keys
/// by the first full load (<see cref="LoadAllAsync"/>); a write or delete of an item moves or removes its field, so
/// no order of writes, moves and reads sees an older value or counts an item twice.</para>
/// <para>An item whose stored JSON no longer parses (a store that lost a record's end) reads as absent, counted
/// (<c>sessionrec.catalogue.unreadable</c>) and logged once: thrown, it failed every load of the tenant's catalogue. Writing
/// the item again replaces it.</para>
/// </summary>
public sealed class RedisCatalogueStore(IConnectionMultiplexer redis, IWriteBarrier barrier, ILogger<RedisCatalogueStore>? logger = null)
{
    // KEYS: legacy hash, version, changes, count, tombstones. ARGV: item key prefix, then id, json per item. Returns the
    // new version. An item written again is no longer a deletion to trim.
    private const string SaveScript = """
        local v = redis.call('INCR', KEYS[2])
        for i = 2, #ARGV, 2 do
          local key = ARGV[1] .. ARGV[i]
          local existed = redis.call('EXISTS', key)
          redis.call('SET', key, ARGV[i + 1])
          redis.call('HDEL', KEYS[1], ARGV[i])
          if existed == 0 then
            redis.call('INCR', KEYS[4])
            redis.call('ZREM', KEYS[5], ARGV[i])
          end
          redis.call('ZADD', KEYS[3], v, ARGV[i])
        end
        return v
        """;

    // KEYS: legacy hash, version, changes, count, tombstones, floor. ARGV: item key prefix, id, deletions kept. Returns
    // { removed, new version }. Past the deletions kept, the oldest leaves the feed (unless its item exists again) and
    // the floor rises to its version, in the same script: no reader sees the feed without it and the floor below it.
    private const string DeleteScript = """
        local removed = redis.call('DEL', ARGV[1] .. ARGV[2])
        if removed == 1 then redis.call('DECR', KEYS[4]) end
        removed = removed + redis.call('HDEL', KEYS[1], ARGV[2])
        local v = redis.call('INCR', KEYS[2])
        redis.call('ZADD', KEYS[3], v, ARGV[2])
        redis.call('ZADD', KEYS[5], v, ARGV[2])
        local excess = redis.call('ZCARD', KEYS[5]) - tonumber(ARGV[3])
        if excess > 0 then
          local oldest = redis.call('ZRANGE', KEYS[5], 0, excess - 1, 'WITHSCORES')
          local floor = tonumber(redis.call('GET', KEYS[6]) or '0')
          for i = 1, #oldest, 2 do
            local id = oldest[i]
            if redis.call('EXISTS', ARGV[1] .. id) == 0 and redis.call('HEXISTS', KEYS[1], id) == 0 then
              redis.call('ZREM', KEYS[3], id)
            end
            redis.call('ZREM', KEYS[5], id)
            floor = math.max(floor, tonumber(oldest[i + 1]))
          end
          redis.call('SET', KEYS[6], floor)
        end
        return { removed, v }
        """;

    // KEYS: changes, floor. ARGV: after, up to, limit. The changed ids, then whether the floor is above `after` (read
    // after the range: a trim between them only makes the answer "load in full").
    private const string ChangedScript = """
        local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
        local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
        return { ids, floor > tonumber(ARGV[1]) and 1 or 0 }
        """;

    // KEYS: legacy hash, changes, count. ARGV: item key prefix, then ids. Moves each id still in the hash to its key (a
    // key already there was written later and wins) and into the feed at version 0 (items older than the feed are not
    // in it; 0 is no change a replica follows). Returns how many it moved.
    private const string MoveScript = """
        local moved = 0
        for i = 2, #ARGV do
          local json = redis.call('HGET', KEYS[1], ARGV[i])
          if json then
            local key = ARGV[1] .. ARGV[i]
            if redis.call('EXISTS', key) == 0 then
              redis.call('SET', key, json)
              redis.call('INCR', KEYS[3])
            end
            redis.call('HDEL', KEYS[1], ARGV[i])
            redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[i])
            moved = moved + 1
          end
        end
        return moved
        """;

    // KEYS: legacy hash, tombstones. ARGV: item key prefix, then id and feed version of each item a full load found
    // absent. Records those still absent as deletions (feeds written before deletions were trimmed hold them unrecorded),
    // so the next deletion can trim them too; a deletion already recorded keeps its version. Returns how many it added.
    private const string RecordDeletedScript = """
        local added = 0
        for i = 2, #ARGV, 2 do
          if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 and redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then
            added = added + redis.call('ZADD', KEYS[2], 'NX', ARGV[i + 1], ARGV[i])
          end
        end
        return added
        """;

    private const int Page = 1_000;

    /// <summary>
    /// How many deletions the feed keeps (twice what a replica applies as changes before it loads in full instead:
    /// a reader that would need an older one is that far behind and loads in full anyway).
    /// </summary>
    public const int DefaultTombstonesKept = 20_000;

    /// <summary>How many deletions the feed keeps; past it the oldest leaves (<see cref="DefaultTombstonesKept"/>).</summary>
    public int TombstonesKept { get; init; } = DefaultTombstonesKept;

    // A warning once per unreadable item per process: an item read by id is read on every request for it.
    private static readonly FirstSighting Warned = new();

    /// <summary>Stores the items; returns the catalogue version that includes them.</summary>
    public async Task<long> SaveAsync(string tenant, IReadOnlyList<CatalogueItem> items)
    {
        var args = new RedisValue[1 + (items.Count * 2)];
        args[0] = RedisKeys.ItemPrefix(tenant);
        for (var i = 0; i < items.Count; i++)
        {
            args[1 + (2 * i)] = items[i].Id;
            args[2 + (2 * i)] = JsonSerializer.SerializeToUtf8Bytes(items[i], ServiceJson.Options);
        }

        var version = (long)(await redis.GetDatabase().ScriptEvaluateAsync(SaveScript, Keys(tenant), args))!;
        await barrier.WaitDurableAsync(CancellationToken.None);
        return version;
    }

    public async Task<(bool Removed, long Version)> DeleteAsync(string tenant, string itemId)
    {
        RedisKey[] keys = [.. Keys(tenant), RedisKeys.ItemFeedFloor(tenant)];
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(DeleteScript, keys, [RedisKeys.ItemPrefix(tenant), itemId, TombstonesKept]))!;
        await barrier.WaitDurableAsync(CancellationToken.None);
        return ((long)result[0] > 0, (long)result[1]);
    }

    public async Task<CatalogueItem?> GetAsync(string tenant, string itemId) => (await GetManyAsync(tenant, [itemId]))[0];

    /// <summary>How many items the catalogue holds.</summary>
    public async Task<long> CountAsync(string tenant)
    {
        var db = redis.GetDatabase();
        var legacy = db.HashLengthAsync(RedisKeys.Items(tenant));
        var count = db.StringGetAsync(RedisKeys.ItemCount(tenant));
        return await legacy + ((long?)await count ?? 0);
    }

    /// <summary>The newest catalogue version (0 before the first write).</summary>
    public async Task<long> VersionAsync(string tenant) =>
        (long?)await redis.GetDatabase().StringGetAsync(RedisKeys.ItemsVersion(tenant)) ?? 0;

    /// <summary>
    /// The id of this catalogue's change feed (created by the first caller): versions are comparable only under the
    /// same id, since a wiped or replaced store counts from 0 again.
    /// </summary>
    public async Task<string> EpochAsync(string tenant)
    {
        var db = redis.GetDatabase();
        var key = RedisKeys.ItemsEpoch(tenant);
        await db.StringSetAsync(key, Guid.NewGuid().ToString("N"), when: When.NotExists);
        return (string?)await db.StringGetAsync(key) ?? throw new InvalidOperationException($"{key} vanished as it was read.");
    }

    /// <summary>
    /// The ids changed after version <paramref name="after"/> up to <paramref name="upTo"/>, at most <paramref name="limit"/>;
    /// null when the feed no longer holds every change after <paramref name="after"/> (a deletion that old has left it):
    /// the reader loads in full.
    /// </summary>
    public async Task<string[]?> ChangedAsync(string tenant, long after, long upTo, int limit)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            ChangedScript, [RedisKeys.ItemChanges(tenant), RedisKeys.ItemFeedFloor(tenant)], [after, upTo, limit]))!;
        return (long)result[1] == 1 ? null : [.. ((RedisResult[])result[0]!).Select(id => (string)id!)];
    }

    /// <summary>These items as stored now: null for an id that is not (deleted).</summary>
    public async Task<CatalogueItem?[]> GetManyAsync(string tenant, IReadOnlyList<string> ids)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        // The legacy hash first, then the keys, in one pipeline on one connection (one shard: the same hash tag): a
        // field moved in between is found under its key; a key, written later than any field, wins.
        var db = redis.GetDatabase();
        var legacy = db.HashGetAsync(RedisKeys.Items(tenant), [.. ids.Select(id => (RedisValue)id)]);
        var current = db.StringGetAsync([.. ids.Select(id => RedisKeys.Item(tenant, id))]);
        var (fields, values) = (await legacy, await current);
        return [.. ids.Select((id, i) => values[i].IsNull ? fields[i].IsNull ? null : Parse(tenant, id, fields[i]) : Parse(tenant, id, values[i]))];
    }

    /// <summary>Every item, once (a full load: it first moves a legacy hash's items to their keys).</summary>
    public async IAsyncEnumerable<CatalogueItem> LoadAllAsync(string tenant)
    {
        await MoveLegacyItemsAsync(tenant);
        var db = redis.GetDatabase();

        // The feed names every item (and deleted ones); a scan may name one twice while the feed changes.
        var entries = db.SortedSetScanAsync(RedisKeys.ItemChanges(tenant), pageSize: Page).DistinctBy(entry => (string)entry.Element!, StringComparer.Ordinal);
        await foreach (var page in entries.Chunk(Page))
        {
            var items = await GetManyAsync(tenant, [.. page.Select(entry => (string)entry.Element!)]);
            var absent = new List<RedisValue> { RedisKeys.ItemPrefix(tenant) };
            for (var i = 0; i < page.Length; i++)
            {
                if (items[i] is { } item)
                {
                    yield return item;
                }
                else
                {
                    absent.Add(page[i].Element);
                    absent.Add(page[i].Score);
                }
            }

            if (absent.Count > 1)
            {
                await db.ScriptEvaluateAsync(RecordDeletedScript, [RedisKeys.Items(tenant), RedisKeys.ItemTombstones(tenant)], [.. absent]);
            }
        }
    }

    /// <summary>Moves the items of a legacy catalogue hash to their own keys (none: nothing to do); returns how many it moved.</summary>
    public async Task<long> MoveLegacyItemsAsync(string tenant)
    {
        var db = redis.GetDatabase();
        var hash = RedisKeys.Items(tenant);
        RedisKey[] keys = [hash, RedisKeys.ItemChanges(tenant), RedisKeys.ItemCount(tenant)];
        var moved = 0L;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        // Each round moves the first page a scan from the start finds, until the hash is empty: a scan that went on
        // from its cursor while its fields were deleted skipped a tenth of them on Garnet. Fields written meanwhile by
        // a process of the previous version are moved too; a round that moves nothing ends it.
        while (true)
        {
            var args = new List<RedisValue>(Page + 1) { RedisKeys.ItemPrefix(tenant) };
            await foreach (var entry in db.HashScanAsync(hash, pageSize: Page)) // (HSCAN NOVALUES: Redis 7.4 and later only)
            {
                args.Add(entry.Name);
                if (args.Count > Page)
                {
                    break;
                }
            }

            var round = args.Count == 1 ? 0 : (long)(await db.ScriptEvaluateAsync(MoveScript, keys, [.. args]))!;
            moved += round;
            if (round == 0)
            {
                break;
            }
        }

        if (moved > 0)
        {
            await barrier.WaitDurableAsync(CancellationToken.None);
            logger?.LogInformation("Moved {Count} catalogue items of tenant {Tenant} from the catalogue hash to their own keys in {Seconds:0.0} s.", moved, tenant, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return moved;
    }

    private CatalogueItem? Parse(string tenant, string itemId, RedisValue value)
    {
        if (ServiceJson.TryDeserialize<CatalogueItem>((byte[])value!) is { } item)
        {
            return item;
        }

        Telemetry.CatalogueUnreadable.Add(1);
        if (Warned.Of($"{tenant}/{itemId}"))
        {
            logger?.LogWarning("Catalogue item {ItemId} of tenant {Tenant} is unreadable (not the JSON of an item): read as absent.", itemId, tenant);
        }

        return null;
    }

    private static RedisKey[] Keys(string tenant) => [RedisKeys.Items(tenant), RedisKeys.ItemsVersion(tenant), RedisKeys.ItemChanges(tenant), RedisKeys.ItemCount(tenant), RedisKeys.ItemTombstones(tenant)];
}
