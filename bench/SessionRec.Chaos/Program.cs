// The chaos suite: brings up deploy/local-cluster.sh (3 silos, 2 APIs, redis-server) in a fresh folder, breaks it on
// purpose under load, scenario after scenario, and writes what the clients saw: acknowledged events lost and
// duplicated, failed requests and their statuses, seconds until errors stop, p99 during and after.
// Usage: dotnet run -c Release --project bench/SessionRec.Chaos -- [--suite all|ci] [--clients 4]
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
    var rows = await runner.RunAsync(suite == "ci" ? ChaosRunner.Ci : ChaosRunner.All, cancel.Token);
    var machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    var command = "dotnet run -c Release --project bench/SessionRec.Chaos -- " + string.Join(' ', args);
    Console.WriteLine(ChaosResults.Markdown(rows, machine, command));
    if (options.GetValueOrDefault("json") is { } json)
    {
        ChaosResults.Write(json, rows, machine, command);
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
