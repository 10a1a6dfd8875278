namespace SessionRec.Silo.Knowledge;

using System.Text.Json;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>A tenant's suggestion blocklist in the store (one JSON value), so it survives restarts and moves with the grain.</summary>
public sealed class SuggestionBlocklistStore(IConnectionMultiplexer redis, IWriteBarrier barrier)
{
    public async Task<SuggestionBlocklist> LoadAsync(string tenant)
    {
        var value = await redis.GetDatabase().StringGetAsync(RedisKeys.SuggestionBlocklist(tenant));
        if (value.IsNullOrEmpty)
        {
            return SuggestionBlocklist.Empty;
        }

        var stored = JsonSerializer.Deserialize<Stored>((string)value!)!;
        return new SuggestionBlocklist(stored.Phrases, stored.Patterns);
    }

    public async Task SaveAsync(string tenant, SuggestionBlocklist list)
    {
        await redis.GetDatabase().StringSetAsync(
            RedisKeys.SuggestionBlocklist(tenant),
            JsonSerializer.Serialize(new Stored([.. list.Phrases], [.. list.Patterns])));
        await barrier.WaitDurableAsync(CancellationToken.None);
    }

    private sealed record Stored(List<string> Phrases, List<string> Patterns);
}
