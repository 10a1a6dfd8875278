namespace SessionRec.Api.Tests;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using SessionRec.Api.Contracts;
using SessionRec.TestSupport;

/// <summary>
/// deploy/local-cluster.sh, the README's way to try cluster mode, does what it says: one command brings up the
/// store, three silo processes and two API processes (each serving the dashboard); an event posted to one API is in
/// the user's session read through the other; under load, a silo killed with SIGKILL and a Redis server killed and restarted lose and
/// duplicate no acknowledged event (the CI-sized chaos suite; bench/SessionRec.Chaos runs all of it); `down` leaves
/// no process behind.
/// </summary>
public sealed class LocalClusterScriptTests
{
    [Fact(Timeout = 900_000)]
    public async Task TheLocalClusterServesOneClusterSurvivesASiloKillAndARedisRestartUnderLoadAndStopsCleanly()
    {
        using var state = new TempFolder();
        var ct = TestContext.Current.CancellationToken;
        var cluster = new SessionRec.Chaos.LocalCluster(Repository.Root, state.Path);
        try
        {
            var up = await cluster.UpAsync(ct);
            Assert.True(up.ExitCode == 0, up.Output);
            Assert.Contains("up: 3 silos, 2 APIs", up.Output, StringComparison.Ordinal);

            var status = await cluster.StatusAsync(ct);
            Assert.Equal(6, status.Output.Split('\n').Count(l => l.Contains(" running", StringComparison.Ordinal)));

            using var first = Client(SessionRec.Chaos.LocalCluster.Apis[0], cluster.Key);
            using var second = Client(SessionRec.Chaos.LocalCluster.Apis[1], cluster.Key);
            var posted = await first.PostJson("/v1/events", new { events = new[] { Http.View("lc-1", "shopper", "a"), Http.View("lc-2", "shopper", "b") } });
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Equal(2, (await posted.Read<PostEventsResponse>()).Accepted);

            var session = await second.GetAsync("/v1/users/shopper/session", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, session.StatusCode);
            var body = await session.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Contains("\"lc-1\"", body, StringComparison.Ordinal);
            Assert.Contains("\"lc-2\"", body, StringComparison.Ordinal);

            // Each API finds its settings and the dashboard's files, as `dotnet run` would.
            Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/dashboard/", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/dashboard/", ct)).StatusCode);

            // Timings are the benchmark's business (docs/results/chaos.md); here: nothing acknowledged is lost or doubled.
            var chaos = new SessionRec.Chaos.ChaosRunner(cluster, clients: 2, TestContext.Current.SendDiagnosticMessage);
            var rows = await chaos.RunAsync(SessionRec.Chaos.ChaosRunner.Ci, ct);
            Assert.Equal(2, rows.Count);
            foreach (var row in rows)
            {
                TestContext.Current.SendDiagnosticMessage($"{row.Scenario}: {row.Acknowledged} acknowledged, {row.FailedRequests} failed requests, recovery {row.RecoveryS} s");
                Assert.True(row.Acknowledged > 0, $"{row.Scenario}: the load got nothing acknowledged");
                Assert.Equal((row.Scenario, 0, 0), (row.Scenario, row.Lost, row.Duplicated));

                // No process died of the fault's consequences (every API stopped when Redis timed out, once), and a
                // store or silo outage is a 503 to retry, never a 500.
                Assert.Empty(row.Died);
                Assert.False(row.FailedStatuses.ContainsKey("500"), $"{row.Scenario}: 500s: {string.Join(" | ", row.ServerErrors ?? [])}\n{cluster.FirstServerErrorLogged()}");
            }
        }
        finally
        {
            var pids = Directory.Exists(Path.Combine(state.Path, "pids"))
                ? Directory.GetFiles(Path.Combine(state.Path, "pids")).Select(f => int.Parse(File.ReadAllText(f).Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList()
                : [];
            var down = await cluster.DownAsync(CancellationToken.None);
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
}
