namespace SessionRec.Bench;

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

/// <summary>
/// The benchmark results file of targets.md (<c>docs/results/bench-&lt;name&gt;.json</c>) and its .md table, written
/// together so the table never lags the file: the load generator merges its rows into it, <c>ann-recall</c> its
/// facts. Linked into both benchmark projects.
/// </summary>
public static class ResultsFile
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The file's contents, or an empty results object when it does not exist yet.</summary>
    public static JsonObject Read(string path) => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : [];

    /// <summary>The file's facts object (added when missing).</summary>
    public static JsonObject Facts(JsonObject root)
    {
        var facts = root["facts"] as JsonObject ?? [];
        root["facts"] = facts;
        return facts;
    }

    /// <summary>Writes the results and their .md beside them.</summary>
    public static void Write(string path, JsonObject root)
    {
        File.WriteAllText(path, root.ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.ChangeExtension(path, ".md"), Markdown(root));
    }

    private static string Runs(JsonNode row) =>
        row["rps_runs"] is JsonArray { Count: > 0 } runs
            ? string.Create(CultureInfo.InvariantCulture, $"{runs.Count}: {runs.Min(r => (double)r!):N0}–{runs.Max(r => (double)r!):N0}")
            : "";

    private static string Markdown(JsonObject root)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Benchmark: {root["name"]}\n\nMachine: {root["machine"]}. Last run: {root["date"]}, `{root["command"]}`.\n\n");
        text.Append("| catalogue | scenario | serving | clients | p50 ms | p99 ms | req/s | events/s | floor req/s (same run) | errors | date | runs (req/s range) |\n");
        text.Append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        var rows = root["rows"] as JsonArray ?? [];
        foreach (var row in rows.OrderBy(r => (int)r!["catalogue"]!).ThenBy(r => (string?)r!["scenario"] == "floor" ? 0 : 1).ThenBy(r => (string?)r!["scenario"]).ThenBy(r => (string?)r!["serving"]))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {(int)row!["catalogue"]!:N0} | {row["scenario"]} | {row["serving"]} | {row["clients"]} | {row["p50_ms"]} | {row["p99_ms"]} | {(double)row["rps"]!:N0} | {row["events_per_s"]} | {row["floor_rps"]} | {row["errors"]} | {row["date"]} | {Runs(row)} |\n");
        }

        if (root["facts"] is JsonObject { Count: > 0 } facts)
        {
            text.Append("\nFacts: `").Append(facts.ToJsonString()).Append("`\n");
        }

        return text.ToString();
    }
}
