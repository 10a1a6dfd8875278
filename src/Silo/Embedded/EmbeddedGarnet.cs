namespace SessionRec.Silo.Embedded;

using System.Net;
using System.Net.Sockets;
using Garnet;

/// <summary>
/// The embedded default's store: a Garnet server (Redis protocol) inside this process, on a loopback port,
/// persisting to the data folder. It lets the one-process default run exactly the Redis code paths of a
/// production cluster (Orleans grain storage, the catalogue, the click-log scripts).
/// Settings measured on Debian 12 / Garnet 2.2.8 (and kept on 2.2.12):
/// - Lua on: Orleans' Redis providers and our click log use EVAL.
/// - DeviceType RandomAccess: the default native device needs glibc 2.38 and crashes on the first AOF write.
/// - The storage tier on (its log's files in <c>garnet/log</c>), with <see cref="Hosting.StorageOptions.MemorySize"/> of the log in
///   memory: without it the log lives in memory only, and once it outgrows its memory size the oldest records are
///   dropped (measured on 2.2.12: a 64 MB log, 200 MB of keys written, the first 1,000 gone; the same with the storage
///   tier: all there), so a busy store lost its oldest data (API keys, items, log records) after ~16 GB of writes.
///   With it a checkpoint writes the log's mutable part, not all of it, and a restart loads at most the memory size.
///   Compaction (Lookup, see <see cref="Hosting.StorageOptions.CompactionSegments"/>) reclaims overwritten values on
///   disk; the segments it frees are deleted at the next checkpoint, never before, so recovery always finds its log.
/// - AOF on with a commit issued per operation, recover at start: a restart replays the AOF. A checkpoint that
///   cannot be read stops the start (fail-on-recovery-error) instead of serving part of the store. Writes that must be
///   durable before they are acknowledged (click-log appends, catalogue writes) wait for <see cref="CommitAsync"/>
///   (see <see cref="Storage.GarnetCommitBarrier"/>); everything else (Orleans grain state, which the click log can
///   rebuild) does not wait.
/// </summary>
public sealed class EmbeddedGarnet : IDisposable
{
    private readonly GarnetServer _server;
    private readonly FileStream _lock;
    private readonly Timer? _checkpoints;
    private int _disposed;

    /// <summary>The file beside the store holding its password (mode 600), made at the first start.</summary>
    public const string SecretFile = "store-secret.txt";

    private readonly string _password;

    private EmbeddedGarnet(GarnetServer server, FileStream folderLock, int port, string password, TimeSpan checkpointInterval)
    {
        _server = server;
        _lock = folderLock;
        _password = password;
        Port = port;
        if (checkpointInterval > TimeSpan.Zero)
        {
            _checkpoints = new Timer(_ => Checkpoint(background: true), null, checkpointInterval, checkpointInterval);
        }
    }

    public int Port { get; }

    /// <summary>
    /// Loopback only, and with a password: any local process could otherwise connect and read every tenant's data
    /// and keys. The password is generated into <see cref="SecretFile"/> in the data folder (readable by its owner only).
    /// </summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,password={_password}";

    /// <summary>Commits the append-only file and waits until everything written so far is on disk.</summary>
    public async ValueTask CommitAsync(CancellationToken cancellationToken) =>
        await _server.Store.CommitAOFAsync(cancellationToken);

    /// <summary>
    /// Takes a checkpoint: recovery then loads it and replays only the append-only file written after it, which
    /// keeps a restart fast. Measured here: recovering ~650 MB of AOF alone took ~11 s.
    /// </summary>
    public void Checkpoint(bool background)
    {
        try
        {
            using var admin = StackExchange.Redis.ConnectionMultiplexer.Connect($"{ConnectionString},allowAdmin=true,connectTimeout=2000,syncTimeout=600000");
#pragma warning disable CS0618 // A foreground save blocks clients: that is what we want at shutdown, and only then.
            admin.GetServer("127.0.0.1", Port).Save(background ? StackExchange.Redis.SaveType.BackgroundSave : StackExchange.Redis.SaveType.ForegroundSave);
#pragma warning restore CS0618
        }
        catch (Exception e) when (Storage.StoreFailures.IsStoreError(e))
        {
            // A checkpoint already running, or the server going down: the AOF still has everything.
        }
    }

    /// <summary>Starts the store with the default settings and no periodic checkpoint (the command-line tools, tests).</summary>
    public static EmbeddedGarnet Start(string dataPath) =>
        Start(dataPath, new Hosting.StorageOptions { CheckpointInterval = TimeSpan.Zero });

    /// <summary>
    /// Starts the store on the data folder with these settings (the command-line tools use the defaults: every process
    /// that opens a folder must keep its log in the same place).
    /// </summary>
    public static EmbeddedGarnet Start(string dataPath, Hosting.StorageOptions settings)
    {
        var port = settings.EmbeddedPort;
        var checkpointInterval = settings.CheckpointInterval;
        var full = Path.GetFullPath(dataPath);
        var dir = Path.Combine(full, "garnet");
        Directory.CreateDirectory(dir);

        // Two servers on one folder would corrupt it: the first holds an exclusive lock on it while it runs.
        FileStream folderLock;
        try
        {
            folderLock = new FileStream(Path.Combine(dir, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"The data folder {full} is in use by another SessionRec process (stop it first).", e);
        }

        if (port == 0)
        {
            port = FreeLoopbackPort();
        }

        string password;
        try
        {
            password = Embedded.SecretFile.ReadOrCreate(Path.Combine(full, SecretFile), () => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }

        var args = new List<string>
        {
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--lua",
            "--aof",
            "--aof-commit-freq", "0",
            "--recover",
            "--fail-on-recovery-error", "true",
            "--checkpointdir", dir,
            "--storage-tier", "true",
            "--logdir", Path.Combine(dir, "log"),
            "--memory", settings.MemorySize,
            "--segment", settings.SegmentSize,
            "--compaction-type", "Lookup",
            "--compaction-max-segments", settings.CompactionSegments.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--compaction-freq", ((int)settings.CompactionInterval.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--device-type", "RandomAccess",
            "--auth", "Password",
            "--password", password,
            "-q",
        };
        GarnetServer? server = null;
        try
        {
            server = new GarnetServer([.. args]);
            server.Start();
            return new EmbeddedGarnet(server, folderLock, port, password, checkpointInterval);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A store that cannot be read back must not start half full: its next checkpoint would replace the
            // unreadable one and trim the append-only file, and the loss would be permanent (seen at 2.8M records).
            server?.Dispose();
            folderLock.Dispose();
            throw new InvalidOperationException(
                $"The embedded store in {dir} did not start: {e.GetBaseException().Message} If its data could not be read " +
                "back, the folder was left as it was: restore it from a copy, or move it away to start with an empty store.",
                e);
        }
    }

    /// <summary>Stops the server after a final checkpoint (a graceful stop then restarts without AOF replay).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _checkpoints?.Dispose();
        Checkpoint(background: false);
        _server.Dispose();
        _lock.Dispose();
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
