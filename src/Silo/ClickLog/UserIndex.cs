namespace SessionRec.Silo.ClickLog;

using StackExchange.Redis;

/// <summary>
/// The layout of a user's index in one partition of the click log (the sequences of the user's records, for replay,
/// drill-down and erasure), and the Lua functions the log's scripts share to write, read and trim it.
/// <para>
/// The index is a row of slots: slot i holds the user's i-th sequence as <see cref="Width"/> decimal digits, in
/// plain strings of <see cref="Slots"/> slots (<c>uc:&lt;k&gt;:&lt;user&gt;</c>, chunk k), beside a count of slots
/// ever used (<c>un:</c>) and the first slot still live (<c>uf:</c>, absent: 0). A chunk is written at its full size
/// when its first slot is filled, then filled in place (SETRANGE within a string's length): both Redis and Garnet
/// change it where it lies. A user's sequences grow with the slot (a partition's counter only grows), so "the
/// entries up to sequence x" is a prefix of the live slots, found by binary search: retention and erasure both
/// trim such a prefix, and neither can skip an entry appended while it ran.
/// </para>
/// <para>
/// Why not a sorted set, as before 2026-12-03: an entry cost Redis ~60 bytes, and the embedded Garnet several .NET
/// heap objects that every young collection of the service scanned (measured: without those writes, batches ran
/// ~25% faster and paused ~30% shorter). A slot costs 12 bytes of a string that Garnet keeps in its log pages.
/// Sorted sets written before that (<see cref="Storage.RedisKeys.LogUserIndex"/>) are still read, trimmed and
/// erased: their entries are older than every slot.
/// </para>
/// </summary>
public static class UserIndex
{
    /// <summary>Digits per sequence: up to 10^12 - 1 records per partition.</summary>
    public const int Width = 12;

    /// <summary>Slots per chunk: a chunk is 768 bytes.</summary>
    public const int Slots = 64;

    /// <summary>What every key of a partition's log starts with; the scripts make the index's keys from it.</summary>
    public static string LogPrefix(string tag) => $"sr:{{{tag}}}:log:";

    public static RedisKey Count(string tag, string userId) => $"{LogPrefix(tag)}un:{userId}";

    public static RedisKey First(string tag, string userId) => $"{LogPrefix(tag)}uf:{userId}";

    public static RedisKey Chunk(string tag, string userId, long chunk) => $"{LogPrefix(tag)}uc:{chunk}:{userId}";

    /// <summary>The patterns of every key of the users' indexes of a partition (a repartitioning deletes them).</summary>
    public static IEnumerable<string> Patterns(string tag) =>
        [$"{LogPrefix(tag)}un:*", $"{LogPrefix(tag)}uf:*", $"{LogPrefix(tag)}uc:*", Storage.RedisKeys.LogUserIndex(tag, "*").ToString()];

    /// <summary>
    /// The shared Lua functions, put before each script that uses them. <c>lp</c> is <see cref="LogPrefix"/>.
    /// <c>index_append(lp, user, seqs)</c> fills the next slots with seqs (ascending); <c>index_batch()</c>,
    /// <c>index_add(batch, user, seq)</c> and <c>index_append_batch(lp, batch)</c> gather a script's new sequences by
    /// user and append each user's at once; <c>index_read(lp, user, after,
    /// limit)</c> returns the user's sequences above after, the old sorted set's first, at most limit of them;
    /// <c>index_trim(lp, user, upto)</c> removes the entries up to sequence upto and deletes what it empties, and
    /// returns the entries left.
    /// </summary>
    public const string Lua = Functions + "\n";

    private const string Functions = """
        local W, S = 12, 64
        local function index_chunk(lp, k, user)
          return lp .. 'uc:' .. k .. ':' .. user
        end
        local function index_seq_at(lp, user, slot)
          local off = (slot % S) * W
          return tonumber(redis.call('GETRANGE', index_chunk(lp, math.floor(slot / S), user), off, off + W - 1))
        end
        local function index_bounds(lp, user)
          return tonumber(redis.call('GET', lp .. 'un:' .. user) or '0'), tonumber(redis.call('GET', lp .. 'uf:' .. user) or '0')
        end
        local function index_first_above(lp, user, f, n, x)
          local lo, hi = f, n
          while lo < hi do
            local mid = math.floor((lo + hi) / 2)
            local s = index_seq_at(lp, user, mid)
            if s and s > x then
              hi = mid
            else
              lo = mid + 1
            end
          end
          return lo
        end
        local function index_append(lp, user, seqs)
          local c = #seqs
          local slot = redis.call('INCRBY', lp .. 'un:' .. user, c) - c
          local i = 1
          while i <= c do
            local off = slot % S
            local take = math.min(c - i + 1, S - off)
            local parts = {}
            for j = 0, take - 1 do
              parts[j + 1] = string.format('%0' .. W .. 'd', seqs[i + j])
            end
            local key = index_chunk(lp, math.floor(slot / S), user)
            if off == 0 then
              redis.call('SET', key, table.concat(parts) .. string.rep('0', (S - take) * W))
            else
              redis.call('SETRANGE', key, off * W, table.concat(parts))
            end
            slot = slot + take
            i = i + take
          end
        end
        local function index_batch()
          return { users = {}, seqs = {} }
        end
        local function index_add(batch, user, seq)
          local seqs = batch.seqs[user]
          if not seqs then
            seqs = {}
            batch.seqs[user] = seqs
            batch.users[#batch.users + 1] = user
          end
          seqs[#seqs + 1] = seq
        end
        local function index_append_batch(lp, batch)
          for _, user in ipairs(batch.users) do
            index_append(lp, user, batch.seqs[user])
          end
        end
        local function index_read(lp, user, after, limit)
          local out = {}
          local old = redis.call('ZRANGEBYSCORE', lp .. 'user:' .. user, '(' .. after, '+inf', 'LIMIT', 0, limit)
          for i = 1, #old do
            out[i] = tonumber(old[i])
          end
          local n, f = index_bounds(lp, user)
          local slot = index_first_above(lp, user, f, n, after)
          while slot < n and #out < limit do
            local k = math.floor(slot / S)
            local chunk = redis.call('GET', index_chunk(lp, k, user))
            local last = math.min(n - 1, k * S + S - 1)
            if chunk then
              for s = slot, last do
                if #out >= limit then
                  break
                end
                local off = (s % S) * W
                out[#out + 1] = tonumber(string.sub(chunk, off + 1, off + W))
              end
            end
            slot = last + 1
          end
          return out
        end
        local function index_trim(lp, user, upto)
          local old = lp .. 'user:' .. user
          redis.call('ZREMRANGEBYSCORE', old, '-inf', upto)
          local left = redis.call('ZCARD', old)
          if left == 0 then
            redis.call('DEL', old)
          end
          local n, f = index_bounds(lp, user)
          if n == 0 then
            return left
          end
          local to = index_first_above(lp, user, f, n, upto)
          if to >= n then
            for k = math.floor(f / S), math.floor((n - 1) / S) do
              redis.call('DEL', index_chunk(lp, k, user))
            end
            redis.call('DEL', lp .. 'un:' .. user)
            redis.call('DEL', lp .. 'uf:' .. user)
            return left
          end
          for k = math.floor(f / S), math.floor(to / S) - 1 do
            redis.call('DEL', index_chunk(lp, k, user))
          end
          if to > f then
            redis.call('SET', lp .. 'uf:' .. user, to)
          end
          return left + n - to
        end
        """;

    // KEYS: the partition's counter (routing only). ARGV: the partition's key prefix, then per user: the user, how many
    // sequences, the sequences (ascending). Those not above the user's last entry are there already (a run again).
    private const string AppendScript = Lua + """
        local lp, i = ARGV[1], 2
        while i <= #ARGV do
          local user, c, seqs = ARGV[i], tonumber(ARGV[i + 1]), {}
          local n, f = index_bounds(lp, user)
          local last = 0
          if n > f then
            last = index_seq_at(lp, user, n - 1) or 0
          end
          for j = 1, c do
            local seq = tonumber(ARGV[i + 1 + j])
            if seq > last then
              seqs[#seqs + 1] = seq
            end
          end
          if #seqs > 0 then
            index_append(lp, user, seqs)
          end
          i = i + 2 + c
        end
        return 1
        """;

    /// <summary>
    /// Appends sequences to users' indexes of one partition outside the append scripts (a repartitioning copying a log):
    /// each user's sequences ascending; those its index already ends with are skipped, so a copy run again adds none twice.
    /// </summary>
    public static Task AppendAsync(IDatabase db, string tag, IReadOnlyDictionary<string, List<long>> byUser)
    {
        var args = new List<RedisValue>(1 + byUser.Sum(u => 2 + u.Value.Count)) { LogPrefix(tag) };
        foreach (var (user, seqs) in byUser)
        {
            args.Add(user);
            args.Add(seqs.Count);
            args.AddRange(seqs.Select(s => (RedisValue)s));
        }

        return db.ScriptEvaluateAsync(AppendScript, [Storage.RedisKeys.LogSequence(tag)], [.. args]);
    }
}
