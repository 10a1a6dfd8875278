namespace SessionRec.Chaos;

using System.Globalization;
using System.Text;
using System.Text.Json;

/// <summary>docs/results/chaos.json (targets.md, "Chaos results") and its .md rendering.</summary>
public static class ChaosResults
{
    // Rows are written as they are: their snake_case names are the fields of targets.md (recovery_s, p99_ms_during, ...).
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Write(string jsonPath, IReadOnlyList<ChaosRow> rows, string machine, string command, IReadOnlyDictionary<string, string> settings)
    {
        var document = new
        {
            kind = "chaos",
            machine,
            command,
            settings,
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            load = $"{Load.EventsPerBatch} events per batch plus one recommendation request per turn, closed loop, both APIs",
            rows,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(document, Options) + "\n");
        File.WriteAllText(Path.ChangeExtension(jsonPath, ".md"), Markdown(rows, machine, command, settings));
    }

    public static string Markdown(IReadOnlyList<ChaosRow> rows, string machine, string command, IReadOnlyDictionary<string, string> settings)
    {
        var md = new StringBuilder();
        md.AppendLine("# Chaos under load (local cluster: 3 silos, 2 APIs as clients, redis-server with AOF fsync always)");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}. Command: `{command}`.");
        md.AppendLine();
        md.AppendLine(settings.Count == 0
            ? "Settings: Orleans's defaults (response timeout 5 s, membership probes, gateway list refreshed every minute)."
            : "Settings of every process: " + string.Join(", ", settings.Select(s => $"`{s.Key}` = {s.Value}")) + ".");
        md.AppendLine();
        md.AppendLine("Recovery: seconds from the fault until the last failed request ended (in a rolling restart, the longest of its steps). \"During\": requests started between the fault and");
        md.AppendLine("recovery (or the end of the fault, if later); \"after\": the rest of the scenario. Lost: acknowledged event ids missing");
        md.AppendLine("from the click log; duplicated: event ids logged more than once. Requests and failures count from the fault on (the fault");
        md.AppendLine("comes after 3 s without errors); chaos.json lists the first 40 failures of each scenario (time after the fault, API, status)");
        md.AppendLine("and the processes that died of a fault's consequences (none is expected: a process is killed only by the fault itself).");
        md.AppendLine();
        md.AppendLine("| scenario | acknowledged | lost | duplicated | requests | failed (statuses) | recovery s | fault s | p99 ms during | p99 ms after |");
        md.AppendLine("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var statuses = r.FailedStatuses.Count == 0 ? "" : " (" + string.Join(", ", r.FailedStatuses.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {s.Value}")) + ")";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Acknowledged} | {r.Lost} | {r.Duplicated} | {r.Requests} | {r.FailedRequests}{statuses} | {r.RecoveryS:0.0} | {r.FaultS:0.0} | {r.P99MsDuring:0.0} | {r.P99MsAfter:0.0} |");
        }

        return md.ToString();
    }
}
