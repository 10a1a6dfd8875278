namespace SessionRec.Silo.Storage;

using StackExchange.Redis;

/// <summary>
/// Which exceptions mean "the store did not answer, or is starting or failing over": a caller keeps what it has and
/// tries again (a background loop), or answers 503 with Retry-After (a request). One rule for every such place,
/// because the easy version is wrong: a <see cref="RedisTimeoutException"/> is a <see cref="TimeoutException"/>, not
/// a <see cref="RedisException"/> (a catch of RedisException alone once let a Redis restart stop every API process).
/// </summary>
public static class StoreFailures
{
    /// <summary>
    /// The store did not answer (connection, timeout) or answered "not now" (loading, failing over). The Redis client
    /// lets a reset socket's own exception out of a command that was in flight when the server went away (seen in
    /// the CI chaos test: a click-log append as redis-server was killed), so that is the store not answering too.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or Pipelines.Sockets.Unofficial.ConnectionResetException => true,
        RedisServerException server => IsTransient(server.Message),
        _ => false,
    };

    /// <summary>
    /// <see cref="IsUnavailable"/>, or any other Redis error: for loops that only read, where whatever went wrong with
    /// the store is a reason to keep the data they have and try again at the next tick.
    /// </summary>
    public static bool IsStoreError(Exception exception) => exception is RedisException || IsUnavailable(exception);

    /// <summary>
    /// A grain call that failed because the grain's state could not be read or written: Orleans wraps the storage
    /// provider's error (OrleansException → the Redis error, see <see cref="StringGrainStorage"/>).
    /// </summary>
    public static bool IsGrainStorageUnavailable(Exception exception)
    {
        if (exception is not Orleans.Runtime.OrleansException)
        {
            return false;
        }

        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (IsUnavailable(inner))
            {
                return true;
            }
        }

        return false;
    }

    // Errors a Redis server answers while it loads its data after a restart or while a cluster fails over.
    private static bool IsTransient(string message) =>
        message.StartsWith("LOADING", StringComparison.Ordinal) || message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
        || message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
        || message.StartsWith("BUSY", StringComparison.Ordinal);
}
