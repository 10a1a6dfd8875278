namespace SessionRec.Silo.Catalogue;

using System.Text.Json;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>A tenant's catalogue as one Redis hash: item id → item JSON.</summary>
public sealed class RedisCatalogueStore(IConnectionMultiplexer redis, IWriteBarrier barrier)
{
    public async Task SaveAsync(string tenant, IReadOnlyList<CatalogueItem> items)
    {
        var entries = new HashEntry[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            entries[i] = new HashEntry(items[i].Id, JsonSerializer.SerializeToUtf8Bytes(items[i], ServiceJson.Options));
        }

        await redis.GetDatabase().HashSetAsync(RedisKeys.Items(tenant), entries);
        await barrier.WaitDurableAsync(CancellationToken.None);
    }

    public async Task<bool> DeleteAsync(string tenant, string itemId)
    {
        var removed = await redis.GetDatabase().HashDeleteAsync(RedisKeys.Items(tenant), itemId);
        await barrier.WaitDurableAsync(CancellationToken.None);
        return removed;
    }

    public async Task<CatalogueItem?> GetAsync(string tenant, string itemId)
    {
        var value = await redis.GetDatabase().HashGetAsync(RedisKeys.Items(tenant), itemId);
        return value.IsNull ? null : JsonSerializer.Deserialize<CatalogueItem>((byte[])value!, ServiceJson.Options);
    }

    public async IAsyncEnumerable<CatalogueItem> LoadAllAsync(string tenant)
    {
        await foreach (var entry in redis.GetDatabase().HashScanAsync(RedisKeys.Items(tenant), pageSize: 1000))
        {
            yield return JsonSerializer.Deserialize<CatalogueItem>((byte[])entry.Value!, ServiceJson.Options)!;
        }
    }
}
