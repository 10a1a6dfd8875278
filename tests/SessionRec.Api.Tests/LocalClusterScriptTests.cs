namespace SessionRec.Api.Tests;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using SessionRec.Api.Contracts;
using SessionRec.TestSupport;

/// <summary>
/// deploy/local-cluster.sh, the README's way to try cluster mode, does what it says: one command brings up the
/// store, three silo processes and two API processes; an event posted to one API is in the user's session read
/// through the other; under load, a silo killed with SIGKILL and a Redis server killed and restarted lose and
/// duplicate no acknowledged event (the CI-sized chaos suite; bench/SessionRec.Chaos runs all of it); `down` leaves
/// no process behind.
/// </summary>
public sealed class LocalClusterScriptTests
{
    [Fact(Timeout = 900_000)]
    public async Task TheLocalClusterServesOneClusterSurvivesASiloKillAndARedisRestartUnderLoadAndStopsCleanly()
    {
        using var state = new TempFolder();
        try
        {
            var up = await RunAsync(state.Path, "up");
            Assert.True(up.ExitCode == 0, up.Output);
            Assert.Contains("up: 3 silos, 2 APIs", up.Output, StringComparison.Ordinal);

            var status = await RunAsync(state.Path, "status");
            Assert.Equal(6, status.Output.Split('\n').Count(l => l.Contains(" running", StringComparison.Ordinal)));

            var key = (await File.ReadAllTextAsync(Path.Combine(state.Path, "api-key.txt"), TestContext.Current.CancellationToken)).Trim();
            using var first = Client("http://127.0.0.1:5181", key);
            using var second = Client("http://127.0.0.1:5182", key);
            var posted = await first.PostJson("/v1/events", new { events = new[] { Http.View("lc-1", "shopper", "a"), Http.View("lc-2", "shopper", "b") } });
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Equal(2, (await posted.Read<PostEventsResponse>()).Accepted);

            var session = await second.GetAsync("/v1/users/shopper/session", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, session.StatusCode);
            var body = await session.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Contains("\"lc-1\"", body, StringComparison.Ordinal);
            Assert.Contains("\"lc-2\"", body, StringComparison.Ordinal);

            // Timings are the benchmark's business (docs/results/chaos.md); here: nothing acknowledged is lost or doubled.
            var chaos = new SessionRec.Chaos.ChaosRunner(new SessionRec.Chaos.LocalCluster(Repository.Root, state.Path), clients: 2, TestContext.Current.SendDiagnosticMessage);
            var rows = await chaos.RunAsync(SessionRec.Chaos.ChaosRunner.Ci, TestContext.Current.CancellationToken);
            Assert.Equal(2, rows.Count);
            foreach (var row in rows)
            {
                TestContext.Current.SendDiagnosticMessage($"{row.Scenario}: {row.Acknowledged} acknowledged, {row.FailedRequests} failed requests, recovery {row.RecoveryS} s");
                Assert.True(row.Acknowledged > 0, $"{row.Scenario}: the load got nothing acknowledged");
                Assert.Equal((row.Scenario, 0, 0), (row.Scenario, row.Lost, row.Duplicated));

                // No process died of the fault's consequences (every API stopped when Redis timed out, once), and a
                // store or silo outage is a 503 to retry, never a 500.
                Assert.Empty(row.Died);
                Assert.DoesNotContain("500", row.FailedStatuses.Keys);
            }
        }
        finally
        {
            var pids = Directory.Exists(Path.Combine(state.Path, "pids"))
                ? Directory.GetFiles(Path.Combine(state.Path, "pids")).Select(f => int.Parse(File.ReadAllText(f).Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList()
                : [];
            var down = await RunAsync(state.Path, "down");
            Assert.True(down.ExitCode == 0, down.Output);
            Assert.All(pids, pid => Assert.False(Alive(pid), $"process {pid} outlived `down`"));
        }
    }

    private static HttpClient Client(string url, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string state, string command)
    {
        var root = new DirectoryInfo(SessionRec.TestSupport.Repository.Root);

        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root.FullName };
        info.ArgumentList.Add(Path.Combine(root.FullName, "deploy", "local-cluster.sh"));
        info.ArgumentList.Add(command);
        info.Environment["SESSIONREC_LOCAL_CLUSTER"] = state;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await output + await error);
    }
}
