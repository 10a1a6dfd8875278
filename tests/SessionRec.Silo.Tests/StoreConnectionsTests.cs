namespace SessionRec.Silo.Tests;

using SessionRec.Silo.Storage;
using StackExchange.Redis;

public sealed class StoreConnectionsTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_connection_made_the_services_way_keeps_the_strings_settings_reads_on_the_thread_pool_and_reaches_the_store()
    {
        // The fixture connects as the service does (StoreConnections.ConnectAsync).
        await using var store = await EmbeddedStore.StartAsync("sessionrec-connections-");
        var options = StoreConnections.Options(store.Garnet.ConnectionString);
        Assert.Same(SocketManager.ThreadPool, options.SocketManager);
        Assert.False(string.IsNullOrEmpty(options.Password));
        Assert.Equal($"127.0.0.1:{store.Garnet.Port}", Assert.Single(options.EndPoints).ToString());

        var db = store.Redis.GetDatabase();
        Assert.True(await db.StringSetAsync("connections-test", "yes"));
        Assert.Equal("yes", (string?)await db.StringGetAsync("connections-test"));
    }
}
