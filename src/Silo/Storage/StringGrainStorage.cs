namespace SessionRec.Silo.Storage;

using System.Text;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;
using StackExchange.Redis;

/// <summary>
/// Grain state (user sessions, knowledge stores) kept as one string value per grain: the etag's 32 characters, then
/// the serialized state. It replaces Orleans' Redis provider, which keeps each state in a hash. In Garnet, the embedded
/// default's store, a hash is an object, and objects that have left memory are read back through Garnet's object log:
/// on a real folder (Beauty plus 88,000 items, restarted with the log moved to its files at the stop) one user's
/// state could never be read again — every read of it failed in that reader ("Internal error in read buffer
/// sequencing") and closed the connection, failing every other command in flight on it, at each activation of that
/// user. Strings are read back through the main log, the path every other record of the click log takes.
/// State written by the earlier provider (a hash under <see cref="LegacyKey"/>) is moved to a string the first time it
/// is read, so an activation that finds no string asks the old key once more (one round trip, at activation only).
/// A state that cannot be read (the store fails on it, or what it returns does not deserialize) is dropped — the
/// grains rebuild their state from the click log, all but records its retention has dropped — instead of failing the
/// user's every request.
/// </summary>
public sealed partial class StringGrainStorage(string name, string serviceId, string connectionString, IGrainStorageSerializer serializer, ILogger<StringGrainStorage> logger)
    : IGrainStorage, IAsyncDisposable
{
    private const int EtagLength = 32;

    // KEYS[1] the state's key; ARGV[1] the etag the writer read (empty: it read none), ARGV[2] the new value.
    // Writes when no state is stored or the stored etag is the one read (Orleans' rule); returns 0 otherwise.
    private const string WriteScript = """
        local stored = redis.call('GETRANGE', KEYS[1], 0, 31)
        if stored ~= '' and stored ~= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[2])
        return 1
        """;

    // Its own connection, as Orleans' provider had: a store error that closes a connection fails only grain state's
    // commands in flight, not the click log's. Reads of the earlier form have another (the record Garnet could not read
    // closed the connection it was asked on), so that they fail nothing but each other.
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis = new(() => StoreConnections.ConnectAsync(connectionString));
    private readonly Lazy<Task<ConnectionMultiplexer>> _legacy = new(() => StoreConnections.ConnectAsync(connectionString));

    /// <summary>Where a grain's state is stored.</summary>
    public string Key(string stateName, GrainId grainId) => $"{serviceId}/grainstate/{grainId}/{stateName}";

    /// <summary>Where Orleans' Redis provider stored it (a hash of etag and data).</summary>
    public string LegacyKey(string stateName, GrainId grainId) => $"{serviceId}/state/{grainId}/{stateName}";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var db = (await _redis.Value).GetDatabase();
        var key = Key(stateName, grainId);
        var value = (byte[]?)await db.StringGetAsync(key);
        if (value is null)
        {
            value = await MoveLegacyStateAsync(db, stateName, grainId, key);
        }

        if (value is null || value.Length < EtagLength)
        {
            Empty(grainState);
            return;
        }

        try
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(value.AsMemory(EtagLength)));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Cut values were found on folders written before 2026-12-03 (see EmbeddedStoreRecoveryTests): a state
            // that cannot be read would fail every activation of its grain.
            LogUnreadable(e, grainId.ToString(), stateName);
            await db.KeyDeleteAsync(key);
            Empty(grainState);
            return;
        }

        grainState.ETag = Encoding.ASCII.GetString(value, 0, EtagLength);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var db = (await _redis.Value).GetDatabase();
        var etag = Guid.NewGuid().ToString("N");
        var written = (int)await db.ScriptEvaluateAsync(WriteScript, [Key(stateName, grainId)], [grainState.ETag ?? "", Value(etag, serializer.Serialize(grainState.State))]);
        if (written == 0)
        {
            throw new InconsistentStateException($"The stored state of {grainId} ({stateName}, storage {name}) was written by another activation since this one read it.");
        }

        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var db = (await _redis.Value).GetDatabase();

        // Two commands, not one DEL of both: on a Redis Cluster the keys live in different slots.
        await db.KeyDeleteAsync(Key(stateName, grainId));
        await db.KeyDeleteAsync(LegacyKey(stateName, grainId));
        Empty(grainState);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in new[] { _redis, _legacy }.Where(c => c.IsValueCreated))
        {
            await (await connection.Value).DisposeAsync();
        }
    }

    private static void Empty<T>(IGrainState<T> grainState)
    {
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static byte[] Value(string etag, BinaryData state)
    {
        var data = state.ToMemory().Span;
        var value = new byte[EtagLength + data.Length];
        Encoding.ASCII.GetBytes(etag, value);
        data.CopyTo(value.AsSpan(EtagLength));
        return value;
    }

    // The earlier provider's hash, rewritten as this provider's string (unless a string appeared meanwhile: then that
    // one is read) and deleted. A hash whose read fails twice in a row is deleted too: it would fail every activation
    // of its grain. (Once is not enough: a record that cannot be read closes the connection for every read in flight.)
    private async Task<byte[]?> MoveLegacyStateAsync(IDatabase db, string stateName, GrainId grainId, string key)
    {
        var legacyKey = LegacyKey(stateName, grainId);
        var legacy = (await _legacy.Value).GetDatabase();
        HashEntry[] fields;
        try
        {
            fields = await ReadLegacyAsync(legacy, legacyKey);
        }
        catch (Exception e) when (StoreFailures.IsStoreError(e))
        {
            LogLegacyUnreadable(e, grainId.ToString(), stateName);
            await db.KeyDeleteAsync(legacyKey);
            return null;
        }

        var data = fields.FirstOrDefault(f => f.Name == "data").Value;
        if (data.IsNull)
        {
            return null; // none stored: the usual case
        }

        var value = Value(Guid.NewGuid().ToString("N"), new BinaryData((byte[])data!));
        if (!await db.StringSetAsync(key, value, when: When.NotExists))
        {
            value = await db.StringGetAsync(key);
        }

        await db.KeyDeleteAsync(legacyKey);
        return value;
    }

    // A read that failed is asked again alone, on a connection of its own: a read that fails there is this record's.
    private async Task<HashEntry[]> ReadLegacyAsync(IDatabase legacy, string legacyKey)
    {
        try
        {
            return await legacy.HashGetAllAsync(legacyKey);
        }
        catch (Exception e) when (StoreFailures.IsStoreError(e))
        {
            await using var alone = await StoreConnections.ConnectAsync(connectionString);
            return await alone.GetDatabase().HashGetAllAsync(legacyKey);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored state of {Grain} ({State}) could not be read; it was dropped, and the grain rebuilds it from the click log.")]
    private partial void LogUnreadable(Exception exception, string grain, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored state of {Grain} ({State}) from before string storage could not be read; it was dropped, and the grain rebuilds it from the click log.")]
    private partial void LogLegacyUnreadable(Exception exception, string grain, string state);
}
