using System.Globalization;
using System.Text.Json.Nodes;
using SessionRec.Bench;

/// <summary>One scenario of one run: latencies in ms, throughput, events/s for ingestion, failed requests.</summary>
internal sealed record BenchRow(string Scenario, double P50, double P99, double Rps, double? EventsPerSecond, int Errors)
{
    /// <summary>Every measured run's req/s when the scenario was repeated (the row is the median run); null for one run.</summary>
    public IReadOnlyList<double>? RpsRuns { get; init; }

    /// <summary>The service's CPU time per request in the row's run (ms; --pid): on a machine the load generator
    /// shares, a cost that does not move with how the cores were split, as req/s does.</summary>
    public double? ServiceCpuMs { get; init; }

    /// <summary>The load generator's own CPU time per request in the row's run (ms): what the measuring took from the
    /// cores it shares with the service.</summary>
    public double? GeneratorCpuMs { get; init; }
}

/// <summary>
/// The benchmark results file of targets.md (<c>docs/results/bench-&lt;name&gt;.json</c> and its .md): runs merge
/// into it, so one file holds the floor, baseline and model rows of several catalogue sizes, each run's floor beside
/// its own rows.
/// </summary>
internal static class BenchResults
{
    public static string ScenarioId(string name) => name switch
    {
        _ when name.StartsWith("floor", StringComparison.Ordinal) => "floor",
        _ when name.StartsWith("recommendations", StringComparison.Ordinal) => "recs",
        _ when name.StartsWith("recs-context", StringComparison.Ordinal) => "recs-context",
        _ when name.StartsWith("recs-rounds=", StringComparison.Ordinal) => "recs-rounds-" + name["recs-rounds=".Length],
        _ when name.StartsWith("events, 1 ", StringComparison.Ordinal) => "events-1",
        _ when name.StartsWith("events, batches", StringComparison.Ordinal) => "events-100",
        _ when name.StartsWith("suggestions", StringComparison.Ordinal) => "suggestions",
        _ when name.StartsWith("analytics", StringComparison.Ordinal) => "analytics-sessions",
        _ => name,
    };

    /// <summary>The resident memory of a process, from /proc (Linux).</summary>
    public static double? ResidentMegabytes(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return null;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The CPU time a process has used so far (user and system), or null when it cannot be read.</summary>
    public static TimeSpan? ProcessorTime(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    public static void Merge(string path, string name, string command, string serving, int catalogue, int clients, IReadOnlyList<BenchRow> rows, double? rssMb)
    {
        var root = ResultsFile.Read(path);
        root["kind"] = "bench";
        root["name"] = name;
        root["machine"] = $"{Environment.ProcessorCount} cores, {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9)} GB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; load generator on the same machine";
        root["command"] = command;
        root["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var all = root["rows"] as JsonArray ?? [];
        root["rows"] = all;
        var floor = rows.FirstOrDefault(r => r.Scenario == "floor")?.Rps;
        foreach (var row in rows)
        {
            // Rows that no recommender serves say "none" in the serving files; an ingestion run names its deployment
            // instead (--serving "embedded default" or "cluster ..."), so both modes' rows live in one file.
            var rowServing = row.Scenario is "floor" or "events-1" or "events-100" && serving is "baseline" or "model" or "none" ? "none" : serving;
            foreach (var old in all.Where(o => (string?)o!["scenario"] == row.Scenario && (string?)o!["serving"] == rowServing && (int?)o!["catalogue"] == catalogue && (int?)o!["clients"] == clients).ToList())
            {
                all.Remove(old);
            }

            all.Add(new JsonObject
            {
                ["scenario"] = row.Scenario,
                ["serving"] = rowServing,
                ["catalogue"] = catalogue,
                ["clients"] = clients,
                ["p50_ms"] = Math.Round(row.P50, 3),
                ["p99_ms"] = Math.Round(row.P99, 3),
                ["rps"] = Math.Round(row.Rps, 1),
                ["events_per_s"] = row.EventsPerSecond is { } e ? Math.Round(e, 1) : null,
                ["floor_rps"] = floor is { } f ? Math.Round(f, 1) : null,
                ["errors"] = row.Errors,
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            });
            if (row.ServiceCpuMs is { } cpu)
            {
                all[^1]!["service_cpu_ms_per_request"] = Math.Round(cpu, 3);
            }

            if (row.GeneratorCpuMs is { } generator)
            {
                all[^1]!["generator_cpu_ms_per_request"] = Math.Round(generator, 3);
            }

            if (row.RpsRuns is { } runs)
            {
                all[^1]!["runs"] = runs.Count;
                all[^1]!["rps_runs"] = new JsonArray([.. runs.Select(r => (JsonNode?)Math.Round(r, 1))]);
            }
        }

        var facts = ResultsFile.Facts(root);
        if (rssMb is { } rss)
        {
            var perSize = facts["rss_mb"] as JsonObject ?? [];
            facts["rss_mb"] = perSize;
            perSize[catalogue.ToString(CultureInfo.InvariantCulture)] = Math.Round(rss);
        }

        ResultsFile.Write(path, root);
    }
}
