namespace SessionRec.Silo.Tests;

using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

public sealed class StoreConnectionsTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_connection_made_the_services_way_keeps_the_strings_settings_reads_on_the_thread_pool_and_reaches_the_store()
    {
        var folder = Directory.CreateTempSubdirectory("sessionrec-connections-").FullName;
        try
        {
            using var garnet = EmbeddedGarnet.Start(folder);
            var options = StoreConnections.Options(garnet.ConnectionString);
            Assert.Same(SocketManager.ThreadPool, options.SocketManager);
            Assert.False(string.IsNullOrEmpty(options.Password));
            Assert.Equal($"127.0.0.1:{garnet.Port}", Assert.Single(options.EndPoints).ToString());

            await using var redis = await StoreConnections.ConnectAsync(garnet.ConnectionString);
            var db = redis.GetDatabase();
            Assert.True(await db.StringSetAsync("connections-test", "yes"));
            Assert.Equal("yes", (string?)await db.StringGetAsync("connections-test"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
