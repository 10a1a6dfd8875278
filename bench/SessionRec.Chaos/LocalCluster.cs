namespace SessionRec.Chaos;

using System.Diagnostics;
using System.Globalization;

/// <summary>
/// The cluster of deploy/local-cluster.sh (3 silos, 2 APIs as Orleans clients, redis-server), driven through the
/// script — the same one a user starts — and its pid files, so that faults hit the processes users run.
/// </summary>
public sealed class LocalCluster(string repositoryRoot, string state)
{
    public static readonly string[] Apis = ["http://127.0.0.1:5181", "http://127.0.0.1:5182"];
    public static readonly string[] Silos = ["silo-1", "silo-2", "silo-3"];

    public string State => state;

    public string Key => File.ReadAllText(Path.Combine(state, "api-key.txt")).Trim();

    public Task<(int ExitCode, string Output)> UpAsync(CancellationToken ct) => ScriptAsync(ct, "up");

    public Task<(int ExitCode, string Output)> StatusAsync(CancellationToken ct) => ScriptAsync(ct, "status");

    public Task<(int ExitCode, string Output)> DownAsync(CancellationToken ct) => ScriptAsync(ct, "down");

    /// <summary>Starts one process again with the settings `up` gave it.</summary>
    public async Task StartAsync(string name, CancellationToken ct)
    {
        var (code, output) = await ScriptAsync(ct, "start", name);
        if (code != 0)
        {
            throw new InvalidOperationException($"deploy/local-cluster.sh start {name} failed: {output}");
        }
    }

    public int Pid(string name) => int.Parse(File.ReadAllText(Path.Combine(state, "pids", name + ".pid")).Trim(), CultureInfo.InvariantCulture);

    public bool Alive(string name)
    {
        try
        {
            using var process = Process.GetProcessById(Pid(name));
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Sends a signal (KILL, TERM, STOP, CONT) to the named process.</summary>
    public async Task SignalAsync(string name, string signal, CancellationToken ct)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, Pid(name).ToString(CultureInfo.InvariantCulture)]))!;
        await kill.WaitForExitAsync(ct);
    }

    /// <summary>Waits until the named process has exited (false when it still runs at the deadline).</summary>
    public async Task<bool> WaitExitAsync(string name, TimeSpan limit, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + limit;
        while (Alive(name))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100, ct);
        }

        return true;
    }

    /// <summary>How many times the process's log says the host finished starting (a restarted silo adds one).</summary>
    public int StartsLogged(string name)
    {
        var log = Path.Combine(state, "logs", name + ".log");
        return File.Exists(log) ? File.ReadLines(log).Count(l => l.Contains("Application started", StringComparison.Ordinal)) : 0;
    }

    /// <summary>
    /// The first server error an API process logged with its exception (the problem body a client sees says only
    /// "an unexpected error occurred"), for a test to show when a 500 appears; empty when none was logged.
    /// </summary>
    public string FirstServerErrorLogged(int lines = 30)
    {
        foreach (var api in new[] { "api-1", "api-2" })
        {
            var log = Path.Combine(state, "logs", api + ".log");
            if (!File.Exists(log))
            {
                continue;
            }

            var all = File.ReadAllLines(log);
            var at = Array.FindIndex(all, l => l.Contains("Request failed with status 500", StringComparison.Ordinal));
            if (at >= 0)
            {
                return api + ":\n" + string.Join('\n', all.Skip(Math.Max(0, at - 1)).Take(lines));
            }
        }

        return "";
    }

    /// <summary>Waits until the process's log shows one more completed start than <paramref name="before"/>.</summary>
    public async Task WaitStartedAsync(string name, int before, TimeSpan limit, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + limit;
        while (StartsLogged(name) <= before)
        {
            if (!Alive(name) || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{name} did not start within {limit.TotalSeconds:0} s (see {state}/logs/{name}.log).");
            }

            await Task.Delay(200, ct);
        }
    }

    public async Task WaitReadyAsync(string api, TimeSpan limit, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                if ((await http.GetAsync(api + "/health/ready", ct)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{api} was not ready within {limit.TotalSeconds:0} s.");
            }

            await Task.Delay(200, ct);
        }
    }

    private async Task<(int ExitCode, string Output)> ScriptAsync(CancellationToken ct, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repositoryRoot };
        info.ArgumentList.Add(Path.Combine(repositoryRoot, "deploy", "local-cluster.sh"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["SESSIONREC_LOCAL_CLUSTER"] = state;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await output + await error);
    }
}
