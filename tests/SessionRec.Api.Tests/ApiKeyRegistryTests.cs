namespace SessionRec.Api.Tests;

using Microsoft.Extensions.Options;
using SessionRec.Api.Auth;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>The managed keys as the registry reads them from a real redis-server.</summary>
public sealed class ApiKeyRegistryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task AKeyRecordThatNoLongerParsesRefusesThatKeyOnlyAndTheOthersStillOpen()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var registry = new ApiKeyRegistry(Options.Create(new ApiKeyOptions()), connection);
        var (kept, _) = await registry.CreateAsync("shop-a", "kept", DateTimeOffset.UnixEpoch);
        var (cut, _) = await registry.CreateAsync("shop-b", "cut", DateTimeOffset.UnixEpoch);

        // As a store that lost a record's end leaves it: the same length, the second half zeros.
        var db = connection.GetDatabase();
        var entry = Assert.Single(await db.HashGetAllAsync(RedisKeys.ApiKeys), e => ((string)e.Value!).Contains("shop-b", StringComparison.Ordinal));
        var (digest, stored) = (entry.Name, (byte[])entry.Value!);
        Array.Clear(stored, stored.Length / 2, stored.Length - (stored.Length / 2));
        await db.HashSetAsync(RedisKeys.ApiKeys, digest, stored);

        // Another process (a fresh registry) loads the keys from the store.
        var other = new ApiKeyRegistry(Options.Create(new ApiKeyOptions()), connection);
        await other.RefreshAsync(force: true);

        Assert.Equal("shop-a", other.Find(kept)?.Tenant);
        Assert.Null(other.Find(cut));
    }
}
