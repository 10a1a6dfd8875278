namespace SessionRec.Analytics.Data;

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>A results row: a metric (in the <c>model</c> column of docs/targets.md's format) on a slice, with n pairs.</summary>
/// A metric that cannot be computed on the slice (a correlation with a constant column) is null in
/// <see cref="Metrics"/> and <see cref="Ci"/>: "n/a" in the markdown, never a number.
public sealed record SessionsResultRow(
    string Model, string Slice, int N, IReadOnlyDictionary<string, double?> Metrics, IReadOnlyDictionary<string, double[]?> Ci);

/// <summary>The results format of docs/targets.md for kind "sessions", as JSON and markdown.</summary>
public sealed record SessionsResultsFile(
    string Kind, string Dataset, string Protocol, string Machine, string Command, DateTimeOffset Measured,
    IReadOnlyList<SessionsResultRow> Rows)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static SessionsResultsFile FromCorrelations(
        string dataset, string protocol, string command, IEnumerable<CorrelationRow> rows) =>
        new("sessions", dataset, protocol, DescribeMachine(), command, DateTimeOffset.UtcNow, rows.Select(r => new SessionsResultRow(
            r.Metric, r.Slice, r.N,
            new Dictionary<string, double?> { ["Spearman"] = Value(r.Spearman), ["Pearson"] = Value(r.Pearson) },
            new Dictionary<string, double[]?> { ["Spearman"] = Interval(r.Spearman), ["Pearson"] = Interval(r.Pearson) })).ToList());

    private static double? Value(Statistics.Estimate e) => e.IsDefined ? Math.Round(e.Value, 4) : null;

    private static double[]? Interval(Statistics.Estimate e) => e.IsDefined ? [Math.Round(e.Low, 4), Math.Round(e.High, 4)] : null;

    public static string DescribeMachine() =>
        $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static SessionsResultsFile FromJson(string json) =>
        JsonSerializer.Deserialize<SessionsResultsFile>(json, Json) ?? throw new FormatException("Empty results file.");

    /// <summary>One table per slice, metrics side by side; the strongest correlation of each column in bold.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {Kind}: {Dataset}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Protocol: {Protocol}. Machine: {Machine}. Measured {Measured:yyyy-MM-dd}.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Command: `{Command}`");
        if (Rows.Any(r => r.Metrics.Values.Any(v => v is null)))
        {
            sb.AppendLine();
            sb.AppendLine("n/a: the correlation is undefined on that slice (one of the two columns is constant, e.g. no clicks).");
        }
        foreach (var slice in Rows.Select(r => r.Slice).Distinct())
        {
            var rows = Rows.Where(r => r.Slice == slice).ToList();
            var columns = rows.SelectMany(r => r.Metrics.Keys).Distinct().ToList();
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"## Slice `{slice}` (n = {rows.Max(r => r.N):N0})");
            sb.AppendLine();
            sb.AppendLine("| metric | " + string.Join(" | ", columns.Select(c => $"{c} | {c} 95% CI")) + " |");
            sb.AppendLine("|---|" + string.Concat(columns.Select(_ => "---|---|")));
            foreach (var row in rows)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {row.Model}");
                foreach (var c in columns)
                {
                    if (row.Metrics.GetValueOrDefault(c) is not { } value)
                    {
                        sb.Append(" | n/a | n/a");
                        continue;
                    }

                    var best = rows.Max(r => r.Metrics.GetValueOrDefault(c) ?? double.NegativeInfinity);
                    var text = value.ToString("0.0000", CultureInfo.InvariantCulture);
                    var ci = row.Ci.GetValueOrDefault(c);
                    sb.Append(value == best ? $" | **{text}**" : $" | {text}");
                    sb.Append(ci is null ? " | " : string.Create(CultureInfo.InvariantCulture, $" | {ci[0]:0.0000}–{ci[1]:0.0000}"));
                }

                sb.AppendLine(" |");
            }
        }

        return sb.ToString();
    }
}
