namespace SessionRec.Silo.Catalogue;

using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionRec.Abstractions.Catalogue;
using SessionRec.ServiceDefaults;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// A tenant's catalogue as one Redis hash (item id → item JSON) and its change feed: a counter bumped by every
/// write and a sorted set item id → the counter value of its last change, written in the same script as the item,
/// so a replica that read counter v finds every change up to v. The feed holds one entry per item ever written
/// (deleted ones included, so a replica learns of the deletion): bounded by the catalogue's ids.
/// <para>An item whose stored JSON no longer parses (a store that lost a record's end) reads as absent, counted
/// (<c>sessionrec.catalogue.unreadable</c>) and logged once: thrown, it failed every load of the tenant's catalogue. Writing
/// the item again replaces it.</para>
/// </summary>
public sealed class RedisCatalogueStore(IConnectionMultiplexer redis, IWriteBarrier barrier, ILogger<RedisCatalogueStore>? logger = null)
{
    // KEYS: items, version, changes. ARGV: id, json per item. Returns the new version.
    private const string SaveScript = """
        local v = redis.call('INCR', KEYS[2])
        for i = 1, #ARGV, 2 do
          redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
          redis.call('ZADD', KEYS[3], v, ARGV[i])
        end
        return v
        """;

    // KEYS: items, version, changes. ARGV: id. Returns { removed, new version }.
    private const string DeleteScript = """
        local removed = redis.call('HDEL', KEYS[1], ARGV[1])
        local v = redis.call('INCR', KEYS[2])
        redis.call('ZADD', KEYS[3], v, ARGV[1])
        return { removed, v }
        """;

    // A warning once per unreadable item per process: an item read by id is read on every request for it.
    private static readonly FirstSighting Warned = new();

    /// <summary>Stores the items; returns the catalogue version that includes them.</summary>
    public async Task<long> SaveAsync(string tenant, IReadOnlyList<CatalogueItem> items)
    {
        var args = new RedisValue[items.Count * 2];
        for (var i = 0; i < items.Count; i++)
        {
            args[2 * i] = items[i].Id;
            args[(2 * i) + 1] = JsonSerializer.SerializeToUtf8Bytes(items[i], ServiceJson.Options);
        }

        var version = (long)(await redis.GetDatabase().ScriptEvaluateAsync(SaveScript, Keys(tenant), args))!;
        await barrier.WaitDurableAsync(CancellationToken.None);
        return version;
    }

    public async Task<(bool Removed, long Version)> DeleteAsync(string tenant, string itemId)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(DeleteScript, Keys(tenant), [itemId]))!;
        await barrier.WaitDurableAsync(CancellationToken.None);
        return ((long)result[0] > 0, (long)result[1]);
    }

    public async Task<CatalogueItem?> GetAsync(string tenant, string itemId)
    {
        var value = await redis.GetDatabase().HashGetAsync(RedisKeys.Items(tenant), itemId);
        return value.IsNull ? null : Parse(tenant, itemId, value);
    }

    public async Task<long> CountAsync(string tenant) => await redis.GetDatabase().HashLengthAsync(RedisKeys.Items(tenant));

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

    /// <summary>The ids changed after version <paramref name="after"/> up to <paramref name="upTo"/>, at most <paramref name="limit"/>.</summary>
    public async Task<string[]> ChangedAsync(string tenant, long after, long upTo, int limit)
    {
        var ids = await redis.GetDatabase().SortedSetRangeByScoreAsync(
            RedisKeys.ItemChanges(tenant), after, upTo, Exclude.Start, take: limit);
        return [.. ids.Select(id => (string)id!)];
    }

    /// <summary>These items as stored now: null for an id that is not (deleted).</summary>
    public async Task<CatalogueItem?[]> GetManyAsync(string tenant, IReadOnlyList<string> ids)
    {
        var values = await redis.GetDatabase().HashGetAsync(RedisKeys.Items(tenant), [.. ids.Select(id => (RedisValue)id)]);
        return [.. values.Select((v, i) => v.IsNull ? null : Parse(tenant, ids[i], v))];
    }

    public async IAsyncEnumerable<CatalogueItem> LoadAllAsync(string tenant)
    {
        await foreach (var entry in redis.GetDatabase().HashScanAsync(RedisKeys.Items(tenant), pageSize: 1000))
        {
            if (Parse(tenant, entry.Name!, entry.Value) is { } item)
            {
                yield return item;
            }
        }
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

    private static RedisKey[] Keys(string tenant) => [RedisKeys.Items(tenant), RedisKeys.ItemsVersion(tenant), RedisKeys.ItemChanges(tenant)];
}
