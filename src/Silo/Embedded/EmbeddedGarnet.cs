namespace SessionRec.Silo.Embedded;

using System.Net;
using System.Net.Sockets;
using Garnet;

/// <summary>
/// The embedded default's store: a Garnet server (Redis protocol) inside this process, on a loopback port,
/// persisting to the data folder. It lets the one-process default run exactly the Redis code paths of a
/// production cluster (Orleans grain storage, the catalogue, the click-log scripts).
/// Settings measured on Debian 12 / Garnet 2.2.8:
/// - Lua on: Orleans' Redis providers and our click log use EVAL.
/// - DeviceType RandomAccess: the default native device needs glibc 2.38 and crashes on the first AOF write.
/// - AOF on with a commit issued per operation, recover at start: a restart replays the AOF. Writes that must be
///   durable before they are acknowledged (click-log appends, catalogue writes) wait for <see cref="CommitAsync"/>
///   (see <see cref="Storage.GarnetCommitBarrier"/>); everything else (Orleans grain state, which the click log can
///   rebuild) does not wait.
/// </summary>
public sealed class EmbeddedGarnet : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedGarnet(GarnetServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false";

    /// <summary>Commits the append-only file and waits until everything written so far is on disk.</summary>
    public async ValueTask CommitAsync(CancellationToken cancellationToken) =>
        await _server.Store.CommitAOFAsync(cancellationToken);

    public static EmbeddedGarnet Start(string dataPath, int port = 0)
    {
        var full = Path.GetFullPath(dataPath);
        var dir = Path.Combine(full, "garnet");
        Directory.CreateDirectory(dir);
        if (port == 0)
        {
            port = FreeLoopbackPort();
        }

        var args = new List<string>
        {
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--lua",
            "--aof",
            "--aof-commit-freq", "0",
            "--recover",
            "--checkpointdir", dir,
            "--device-type", "RandomAccess",
            "-q",
        };
        var server = new GarnetServer([.. args]);
        server.Start();
        return new EmbeddedGarnet(server, port);
    }

    public void Dispose() => _server.Dispose();

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
