namespace SessionRec.TestSupport;

using System.Diagnostics;
using SessionRec.Silo.Embedded;

/// <summary>A real silo-only process (src/Silo) on loopback, clustered through Redis.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private bool _disposed;

    private SiloProcess(Process process, int siloPort)
    {
        _process = process;
        SiloPort = siloPort;
    }

    /// <summary>The silo-to-silo port: the port of this process's <c>SiloAddress</c>.</summary>
    public int SiloPort { get; }

    public static SiloProcess Start(string redis, string clusterId)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "SessionRec.Silo.dll");
        var siloPort = EmbeddedGarnet.FreeLoopbackPort();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[]
        {
            dll, $"--ConnectionStrings:Redis={redis}", $"--Orleans:ClusterId={clusterId}",
            $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={EmbeddedGarnet.FreeLoopbackPort()}",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, siloPort);
    }

    /// <summary>Kills the process (SIGKILL, like a crash); safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
