// The chaos suite: brings up deploy/local-cluster.sh (3 silos, 2 APIs, redis-server) in a fresh folder, breaks it on
// purpose under load, scenario after scenario, and writes what the clients saw: acknowledged events lost and
// duplicated, failed requests and their statuses, seconds until errors stop, p99 during and after.
// Usage: dotnet run -c Release --project bench/SessionRec.Chaos -- [--suite all|ci] [--only <text in a scenario's name>] [--clients 4]
//        [--profile fast-failover|orleans-defaults]
//        [--json docs/results/chaos.json] [--keep] (keep the cluster and its folder afterwards)
using System.Globalization;
using SessionRec.Chaos;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    if (args[i].StartsWith("--", StringComparison.Ordinal))
    {
        options[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
    }
}

var suite = options.GetValueOrDefault("suite", "all");
var clients = int.Parse(options.GetValueOrDefault("clients", "4"), CultureInfo.InvariantCulture);
var root = Directory.GetCurrentDirectory();
while (!File.Exists(Path.Combine(root, "SessionRec.sln")))
{
    root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run from inside the repository (SessionRec.sln not found).");
}

// The cluster's failover settings: every process inherits them from this one's environment (a variable set by the
// caller wins). "fast-failover" (the default) detects a dead or hung silo in seconds; "orleans-defaults" adds nothing.
var profile = options.GetValueOrDefault("profile", "fast-failover");
var settings = profile switch
{
    "fast-failover" => new Dictionary<string, string>
    {
        ["Orleans__ResponseTimeout"] = "00:00:03",
        ["Orleans__GatewayListRefreshPeriod"] = "00:00:02",
        ["Orleans__ProbeTimeout"] = "00:00:02",
        ["Orleans__MaxProbeTimeout"] = "00:00:02.500",
        ["Orleans__MissedProbesLimit"] = "2",
    },
    "orleans-defaults" => [],
    _ => throw new ArgumentException($"--profile is fast-failover or orleans-defaults, not '{profile}'."),
};
foreach (var (name, value) in settings)
{
    if (Environment.GetEnvironmentVariable(name) is null)
    {
        Environment.SetEnvironmentVariable(name, value);
    }
}

var applied = settings.Keys.Concat(Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("Orleans__", StringComparison.Ordinal)))
    .Distinct().Order(StringComparer.Ordinal).ToDictionary(k => k.Replace("__", ":", StringComparison.Ordinal), k => Environment.GetEnvironmentVariable(k)!);

var state = Directory.CreateTempSubdirectory("sessionrec-chaos-").FullName;
var cluster = new LocalCluster(root, state);
using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(30));
Console.WriteLine($"bringing up the local cluster in {state}");
var up = await cluster.UpAsync(cancel.Token);
if (up.ExitCode != 0)
{
    Console.Error.WriteLine(up.Output);
    return 1;
}

try
{
    var runner = new ChaosRunner(cluster, clients, Console.WriteLine);
    var scenarios = (suite == "ci" ? ChaosRunner.Ci : ChaosRunner.All)
        .Where(s => options.GetValueOrDefault("only") is not { } only || s.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
    var rows = await runner.RunAsync(scenarios, cancel.Token);
    var machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    var command = "dotnet run -c Release --project bench/SessionRec.Chaos -- " + string.Join(' ', args);
    Console.WriteLine(ChaosResults.Markdown(rows, machine, command, applied));
    if (options.GetValueOrDefault("json") is { } json)
    {
        ChaosResults.Write(json, rows, machine, command, applied);
        Console.WriteLine($"written: {json} and {Path.ChangeExtension(json, ".md")}");
    }

    return rows.All(r => r.Lost == 0 && r.Duplicated == 0) ? 0 : 3;
}
finally
{
    if (!options.ContainsKey("keep"))
    {
        await cluster.DownAsync(CancellationToken.None);
        Directory.Delete(state, recursive: true);
    }
}
