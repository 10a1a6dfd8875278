namespace SessionRec.Silo.Storage;

using StackExchange.Redis;

/// <summary>
/// Every Redis key the service writes. All keys of a tenant share the hash tag {tenant}, so a Lua script over
/// them runs on one shard of a Redis Cluster.
/// </summary>
public static class RedisKeys
{
    /// <summary>The catalogue as one hash (item id → JSON), as stores before 2026-12-03 kept it: read, and moved to <see cref="Item"/> keys.</summary>
    public static RedisKey Items(string tenant) => $"sr:{{{tenant}}}:items";

    /// <summary>One catalogue item (its JSON): the key is <see cref="ItemPrefix"/> followed by the item id.</summary>
    public static RedisKey Item(string tenant, string itemId) => ItemPrefix(tenant) + itemId;

    public static string ItemPrefix(string tenant) => $"sr:{{{tenant}}}:item:";

    /// <summary>How many items the <see cref="Item"/> keys hold (the legacy hash's fields come on top until they are moved).</summary>
    public static RedisKey ItemCount(string tenant) => $"sr:{{{tenant}}}:items:count";

    /// <summary>The catalogue's change counter and, per item id, the counter value of its last change (what replicas follow).</summary>
    public static RedisKey ItemsVersion(string tenant) => $"sr:{{{tenant}}}:items:version";

    public static RedisKey ItemChanges(string tenant) => $"sr:{{{tenant}}}:items:changes";

    /// <summary>A random id of this catalogue's change feed: a store wiped or replaced starts another, so a silo's saved item vectors are not applied to it.</summary>
    public static RedisKey ItemsEpoch(string tenant) => $"sr:{{{tenant}}}:items:epoch";

    /// <summary>The deleted items still in <see cref="ItemChanges"/> (id → the version that deleted it): the oldest leave both past a bound.</summary>
    public static RedisKey ItemTombstones(string tenant) => $"sr:{{{tenant}}}:items:tombstones";

    /// <summary>The newest version whose deletion left <see cref="ItemChanges"/>: a reader behind it cannot follow the feed.</summary>
    public static RedisKey ItemFeedFloor(string tenant) => $"sr:{{{tenant}}}:items:floor";

    /// <summary>
    /// The hash tag of one partition of a tenant's click log, what the Log* keys below take for their tenant: the
    /// tenant itself for a log of one partition (every log before partitions), else <c>tenant:p</c>, so that each
    /// partition hashes to a slot of its own (tenant names cannot hold a colon).
    /// </summary>
    public static string LogTag(string tenant, int partition, int partitions) =>
        partitions == 1 ? tenant : $"{tenant}:{partition}";

    /// <summary>How many partitions the tenant's log has: set once, when its first record is written.</summary>
    public static RedisKey LogPartitions(string tenant) => $"sr:{{{tenant}}}:log:partitions";

    /// <summary>
    /// Where records appended before 2026-12-03 are (a hash sequence → record): still read, where a record key is
    /// missing, and still cleared by erasure and retention. New records are <see cref="LogRecord"/> keys.
    /// </summary>
    public static RedisKey Log(string tenant) => $"sr:{{{tenant}}}:log";

    /// <summary>
    /// One record of the log: a plain string, which an in-process Garnet keeps in its log pages, not as objects of the
    /// .NET heap (a record as a hash field was three heap objects that every collection of the young generation copied).
    /// </summary>
    public static RedisKey LogRecord(string tenant, long sequence) => $"{LogRecordPrefix(tenant)}{sequence}";

    /// <summary>What <see cref="LogRecord"/> puts before the sequence (the Lua scripts make record keys from it).</summary>
    public static string LogRecordPrefix(string tenant) => $"sr:{{{tenant}}}:log:r:";

    public static RedisKey LogSequence(string tenant) => $"sr:{{{tenant}}}:log:seq";

    /// <summary>The dedup index before it was bounded (every id forever): still read, expiring one window after the upgrade.</summary>
    public static RedisKey LogEventIds(string tenant) => $"sr:{{{tenant}}}:log:ids";

    /// <summary>
    /// The ids that arrived on one UTC day (days since 1970-01-01), one hash per day: the dedup index of releases
    /// before 2026-12-03 (now <see cref="LogEventId"/>), still read and erased until the last of them expires.
    /// </summary>
    public static RedisKey LogEventIds(string tenant, long day) => $"sr:{{{tenant}}}:log:ids:{day}";

    /// <summary>
    /// One event id of the dedup index: a plain string "sequence:remembered-until (unix seconds)" that expires with
    /// its window, kept by the embedded Garnet in its log pages (a hash field per id was heap objects and most of the
    /// store's object snapshot).
    /// </summary>
    public static RedisKey LogEventId(string tenant, string eventId) => $"{LogEventIdPrefix(tenant)}{eventId}";

    /// <summary>What <see cref="LogEventId"/> puts before the id (the Lua scripts make id keys from the log's prefix and <c>e:</c>).</summary>
    public static string LogEventIdPrefix(string tenant) => $"sr:{{{tenant}}}:log:e:";

    /// <summary>The lowest sequence the log may still hold (retention moves it; absent: 1).</summary>
    public static RedisKey LogFirst(string tenant) => $"sr:{{{tenant}}}:log:first";

    /// <summary>The archive files (names) that hold records of the user (what erasure rewrites).</summary>
    public static RedisKey ArchiveUserIndex(string tenant, string userId) => $"sr:{{{tenant}}}:archive:user:{userId}";

    public static RedisKey LogUserIndex(string tenant, string userId) => $"sr:{{{tenant}}}:log:user:{userId}";

    /// <summary>The published statistics snapshot (what replicas load) and the log position it covers.</summary>
    public static RedisKey StatisticsSnapshot(string tenant) => $"sr:{{{tenant}}}:stats:snapshot";

    public static RedisKey StatisticsPosition(string tenant) => $"sr:{{{tenant}}}:stats:position";

    /// <summary>The statistics builder's live sessions (user → recent items), to resume where it stopped.</summary>
    public static RedisKey StatisticsSessions(string tenant) => $"sr:{{{tenant}}}:stats:sessions";

    /// <summary>The published query-log snapshot (offered queries only, no user ids), its log position, and the builder's checkpoint (the whole log, by user).</summary>
    /// <summary>Session analytics: the published aggregates, their log position, the open sessions (the builder's checkpoint).</summary>
    public static RedisKey AnalyticsSnapshot(string tenant) => $"sr:{{{tenant}}}:analytics:snapshot";

    public static RedisKey AnalyticsPosition(string tenant) => $"sr:{{{tenant}}}:analytics:position";

    public static RedisKey AnalyticsCheckpoint(string tenant) => $"sr:{{{tenant}}}:analytics:checkpoint";

    /// <summary>A hash first sequence → digest of each of the user's sessions in the aggregates (what erasure subtracts).</summary>
    public static RedisKey AnalyticsUser(string tenant, string userId) => $"sr:{{{tenant}}}:analytics:user:{userId}";

    public static RedisKey QueryLogSnapshot(string tenant) => $"sr:{{{tenant}}}:queries:snapshot";

    public static RedisKey QueryLogPosition(string tenant) => $"sr:{{{tenant}}}:queries:position";

    public static RedisKey QueryLogCheckpoint(string tenant) => $"sr:{{{tenant}}}:queries:checkpoint";

    public static RedisKey SuggestionBlocklist(string tenant) => $"sr:{{{tenant}}}:suggest:blocked";

    /// <summary>Managed API keys of every tenant (digest → key record) and their change counter.</summary>
    public static RedisKey ApiKeys => "sr:auth:keys";

    public static RedisKey ApiKeysVersion => "sr:auth:keys:version";

    /// <summary>The id of the embedded default's generated key, once registered (so a revocation sticks).</summary>
    public static RedisKey GeneratedApiKey => "sr:auth:generated";

    /// <summary>The id of the embedded default's generated publishable key, once registered.</summary>
    public static RedisKey GeneratedPublishableKey => "sr:auth:generated:publishable";
}
