namespace SessionRec.Silo.Storage;

using StackExchange.Redis;

/// <summary>
/// How this service's long-lived connections to its store (the embedded Garnet, a Redis server or a Redis Cluster) are
/// made. Their replies are read on the .NET thread pool rather than on the client library's own threads: on two cores
/// the library's dedicated reader threads were woken and put back to sleep for nearly every reply (a futex call or
/// more per store command, most of the process's), and one event per request ran 7–24% faster without them (README,
/// "Store replies on the thread pool").
/// </summary>
public static class StoreConnections
{
    /// <summary>The connection's options from its connection string.</summary>
    public static ConfigurationOptions Options(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.SocketManager = SocketManager.ThreadPool;
        return options;
    }

    public static ConnectionMultiplexer Connect(string connectionString) => ConnectionMultiplexer.Connect(Options(connectionString));

    public static Task<ConnectionMultiplexer> ConnectAsync(string connectionString) => ConnectionMultiplexer.ConnectAsync(Options(connectionString));
}
