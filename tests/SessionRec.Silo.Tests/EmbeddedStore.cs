namespace SessionRec.Silo.Tests;

using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>The embedded default's in-process Garnet server in a folder of its own, with a connection to it.</summary>
internal sealed class EmbeddedStore : IAsyncDisposable
{
    private readonly string _folder;

    private EmbeddedStore(string folder, EmbeddedGarnet garnet, ConnectionMultiplexer redis)
    {
        _folder = folder;
        Garnet = garnet;
        Redis = redis;
    }

    public EmbeddedGarnet Garnet { get; }

    public ConnectionMultiplexer Redis { get; }

    /// <summary>What the embedded default acknowledges writes with: a commit of the append-only file.</summary>
    public IWriteBarrier Barrier => new GarnetCommitBarrier(Garnet);

    public static async Task<EmbeddedStore> StartAsync(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        var garnet = EmbeddedGarnet.Start(folder);
        return new EmbeddedStore(folder, garnet, await StoreConnections.ConnectAsync(garnet.ConnectionString));
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        Garnet.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
