namespace SessionRec.TestSupport;

using System.Diagnostics;
using SessionRec.Silo.Embedded;
using StackExchange.Redis;

/// <summary>
/// A real redis-server (the Debian package) on a free loopback port, with its own temporary folder and the
/// append-only file on with fsync on every write (the strict setting: an acknowledged write survives a crash),
/// so tests can kill and restart it and find their data. Started per fixture and stopped after.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _dir;
    private Process? _process;

    private readonly string[] _extraArgs;

    private RedisServer(string dir, int port, string[] extraArgs)
    {
        _dir = dir;
        Port = port;
        _extraArgs = extraArgs;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=5000";

    /// <param name="extraArgs">More redis-server arguments (a cluster node's settings).</param>
    public static async Task<RedisServer> StartAsync(params string[] extraArgs)
    {
        var binary = FindBinary("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed: the tests need a real Redis (apt-get install -y redis-server; .ci/run does this).");
        var dir = Directory.CreateTempSubdirectory("sessionrec-redis-").FullName;
        var server = new RedisServer(dir, EmbeddedGarnet.FreeLoopbackPort(), extraArgs) { Binary = binary };
        await server.RestartAsync();
        return server;
    }

    private string Binary { get; init; } = "";

    /// <summary>Starts the server (again) on the same port and folder; data comes back from the AOF.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        string[] args =
        [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--dir", _dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            "--protected-mode", "yes", "--daemonize", "no",
            .. _extraArgs,
        ];
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},connectTimeout=500");

                // PING answers while the AOF is still being replayed; a data command answers LOADING until it is done.
                // (A cluster node answers only for its slots, so it is asked something that names no key.)
                await probe.GetServer("127.0.0.1", Port).ExecuteAsync("DBSIZE");
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("LOADING", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Kills the server without warning (SIGKILL), like a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The path of one of the redis-server package's programs, or null when it is not installed.</summary>
    public static string? FindBinary(string name)
    {
        foreach (var candidate in new[] { $"/usr/bin/{name}", $"/usr/local/bin/{name}" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
