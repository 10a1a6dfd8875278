namespace SessionRec.Api.Tests;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

/// <summary>
/// The embedded default as a user runs it: the built API (<c>dotnet SessionRec.Api.dll</c>) in its own process with
/// a data folder, on a loopback port that stays the same across restarts. <see cref="Kill"/> is SIGKILL.
/// </summary>
public sealed class EmbeddedApiProcess(string dataPath, int port) : IDisposable
{
    private Process? _process;

    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{port}");

    public string DataPath => dataPath;

    /// <summary>The folder the process starts in (its content root); the build's folder unless set.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The running process's id.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The process has not started.");

    /// <summary>Starts the process and waits (at most 90 s) until /health/ready answers 200.</summary>
    public async Task StartAsync(params string[] settings)
    {
        var dll = ApiDll();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = WorkingDirectory ?? Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add($"--Storage:DataPath={dataPath}");
        info.ArgumentList.Add($"--Urls={BaseAddress.ToString().TrimEnd('/')}");

        // A build (unlike a publish) leaves wwwroot in the project: the dashboard and the demo shop are served from there.
        info.ArgumentList.Add($"--webroot={Path.Combine(SessionRec.TestSupport.Repository.Root, "src", "Api", "wwwroot")}");
        foreach (var setting in settings)
        {
            info.ArgumentList.Add(setting);
        }

        info.Environment.Remove("ConnectionStrings__Redis");
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.False(_process.HasExited, $"The embedded process exited with {(_process.HasExited ? _process.ExitCode : 0)}.");
            try
            {
                if ((await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, "The embedded process did not become ready in 90 s.");
            await Task.Delay(200);
        }
    }

    /// <summary>A client with the key the embedded default generated in its data folder (api-key.txt by default).</summary>
    public HttpClient ClientFor(string keyFile = "api-key.txt")
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadKey(keyFile));
        return http;
    }

    public string ReadKey(string keyFile) => File.ReadAllText(Path.Combine(dataPath, keyFile)).Trim();

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose() => Kill();

    private static string ApiDll()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(SessionRec.TestSupport.Repository.Root, "src", "Api", "bin", configuration, "net10.0", "SessionRec.Api.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first.");
        return dll;
    }
}
