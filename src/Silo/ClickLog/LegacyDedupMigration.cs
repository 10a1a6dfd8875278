namespace SessionRec.Silo.ClickLog;

using System.Collections.Concurrent;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// Moves the ids of the dedup hashes of releases before 2026-12-03 (one hash per day of arrival, and the unbounded one
/// before it) into id keys (<see cref="RedisKeys.LogEventId"/>), then the emptied hashes are gone. Until then every
/// append asks those hashes for its ids, and a hash that has left the store's memory is read from disk and deserialized
/// whole at each append: on a restarted folder with a ~200,000-id hash, appends ran at 10 events/s (README, "A restart
/// that reads nothing back"). Started once per partition per process, at its first append, in the background; appends
/// meanwhile read the hashes as before, and a page moves atomically, so an id is always in one of the two places.
/// </summary>
internal sealed class LegacyDedupMigration(IConnectionMultiplexer redis)
{
    /// <summary>Fields moved per script call: one call holds the store for about a millisecond.</summary>
    private const int PageSize = 1_000;

    // KEYS: the old hash. ARGV: the partition's key prefix, now (unix seconds), how long an id is remembered (for a hash
    // without an expiry), the page size. Moves one page of ids into id keys, remembered as long as the hash would have
    // kept them (an id key already there is newer and stays); returns how many fields the hash had left. Id keys are
    // written by the append scripts' own dedup_remember.
    private const string MovePageScript = RedisClickLog.DedupLua + """
        local unpack = unpack or table.unpack
        local lp, now, life, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
        local ttl = redis.call('TTL', KEYS[1])
        if ttl == -2 then
          return 0
        end
        if ttl < 0 then
          ttl = life
        end
        local page = redis.call('HSCAN', KEYS[1], 0, 'COUNT', count)[2]
        local moved = {}
        for i = 1, #page, 2 do
          if redis.call('EXISTS', lp .. 'e:' .. page[i]) == 0 then
            dedup_remember(lp, page[i], tonumber(page[i + 1]), now, ttl)
          end
          moved[#moved + 1] = page[i]
        end
        if #moved > 0 then
          redis.call('HDEL', KEYS[1], unpack(moved))
        end
        return redis.call('HLEN', KEYS[1])
        """;

    private readonly ConcurrentDictionary<string, byte> _started = new(StringComparer.Ordinal);

    /// <summary>Starts moving the partition's old hashes (<paramref name="oldKeys"/>) unless this process already did.</summary>
    public void EnsureStarted(string tag, RedisKey[] oldKeys, long now, long life)
    {
        if (!_started.ContainsKey(tag) && _started.TryAdd(tag, 0))
        {
            _ = Task.Run(() => MoveAsync(tag, oldKeys, now, life));
        }
    }

    private async Task MoveAsync(string tag, RedisKey[] oldKeys, long now, long life)
    {
        var db = redis.GetDatabase();
        var prefix = UserIndex.LogPrefix(tag);
        foreach (var key in oldKeys)
        {
            try
            {
                // A page at a time, until the hash is gone (a page that moved nothing ends it too: no endless loop).
                var left = long.MaxValue;
                while (await db.KeyExistsAsync(key))
                {
                    var remaining = (long)await db.ScriptEvaluateAsync(MovePageScript, [key], [prefix, now, life, PageSize]);
                    if (remaining == 0 || remaining >= left)
                    {
                        break;
                    }

                    left = remaining;
                }
            }
            catch (Exception e) when (StoreFailures.IsStoreError(e))
            {
                // Appends still read the hash; the next process to append here tries again.
                return;
            }
        }
    }
}
