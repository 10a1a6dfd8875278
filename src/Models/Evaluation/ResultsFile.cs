namespace SessionRec.Models.Evaluation;

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>One row of a results table: a model on a slice of the users.</summary>
public sealed record ResultRow(
    string Model,
    string Slice,
    int Users,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, double[]> Ci,
    string? Note = null,
    IReadOnlyDictionary<string, BaselineDifference>? VsBestBaseline = null);

/// <summary>
/// A metric of a model less the same metric of the best baseline on it (the baseline with the highest mean on that
/// slice and metric), with the 95% interval of a paired bootstrap over the same users.
/// </summary>
public sealed record BaselineDifference(string Baseline, double Mean, double Low, double High);

/// <summary>The results format of docs/targets.md ("Results files"), as JSON and as a markdown table.</summary>
public sealed record ResultsFile(
    string Kind,
    string Dataset,
    string Protocol,
    string Machine,
    string Command,
    DateTimeOffset Measured,
    IReadOnlyList<ResultRow> Rows,
    string? Data = null)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ResultRow Row(string model, string slice, IReadOnlyList<int> ranks, string? note = null)
    {
        var metrics = RankingMetrics.Compute(ranks);
        return new ResultRow(
            model,
            slice,
            ranks.Count,
            metrics.ToDictionary(m => m.Key, m => Math.Round(m.Value.Mean, 4)),
            metrics.ToDictionary(m => m.Key, m => new[] { Math.Round(m.Value.Low, 4), Math.Round(m.Value.High, 4) }),
            note);
    }

    public static string DescribeMachine() =>
        $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ResultsFile FromJson(string json) =>
        JsonSerializer.Deserialize<ResultsFile>(json, Json) ?? throw new FormatException("Empty results file.");

    /// <summary>
    /// One table per slice; the best value of each column in bold. 95% intervals: with <paramref name="intervals"/>,
    /// those columns' intervals beside the values; without, every column's interval in a second table. Rows that
    /// carry a difference from the best baseline get a third table of those differences and their intervals.
    /// </summary>
    public string ToMarkdown(IReadOnlyList<string>? columns = null, IReadOnlyList<string>? intervals = null, string unit = "users")
    {
        columns ??= ["HR@10", "NDCG@10", "HR@20", "NDCG@20", "HR@50", "NDCG@50", "HR@100", "NDCG@100", "MRR@20", .. Rows.Any(r => r.Metrics.ContainsKey(RecsEvaluation.DiversityMetric)) ? new[] { RecsEvaluation.DiversityMetric } : []];
        var inline = intervals ?? [];
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {Kind}: {Dataset}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Protocol: {Protocol}. Machine: {Machine}. Measured {Measured:yyyy-MM-dd}.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Command: `{Command}`");
        if (Data is not null)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"Data: {Data}");
        }
        foreach (var slice in Rows.Select(r => r.Slice).Distinct())
        {
            var rows = Rows.Where(r => r.Slice == slice).ToList();
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"## Slice `{slice}` ({rows.Max(r => r.Users):N0} {unit})");
            sb.AppendLine();
            sb.AppendLine("| model | " + string.Join(" | ", columns) + string.Concat(inline.Select(c => $" | {c} 95% CI")) + " |");
            sb.AppendLine("|---|" + string.Concat(columns.Select(_ => "---|")) + string.Concat(inline.Select(_ => "---|")));
            foreach (var row in rows)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {row.Model}");
                foreach (var c in columns)
                {
                    if (!row.Metrics.TryGetValue(c, out var value))
                    {
                        sb.Append(" | –");
                        continue;
                    }

                    var best = rows.Max(r => r.Metrics.GetValueOrDefault(c));
                    var text = value.ToString(c == RecsEvaluation.DiversityMetric ? "0.0" : "0.0000", CultureInfo.InvariantCulture);
                    sb.Append(value == best && best > 0 ? $" | **{text}**" : $" | {text}");
                }

                foreach (var c in inline)
                {
                    sb.Append(Interval(row.Ci.GetValueOrDefault(c)));
                }

                sb.AppendLine(" |");
            }

            if (intervals is null)
            {
                var withCi = columns.Where(c => rows.Any(r => r.Ci.ContainsKey(c))).ToList();
                sb.AppendLine();
                sb.AppendLine("95% bootstrap intervals (resampling users):");
                sb.AppendLine();
                sb.AppendLine("| model | " + string.Join(" | ", withCi) + " |");
                sb.AppendLine("|---|" + string.Concat(withCi.Select(_ => "---|")));
                foreach (var row in rows)
                {
                    sb.AppendLine($"| {row.Model}" + string.Concat(withCi.Select(c => Interval(row.Ci.GetValueOrDefault(c)))) + " |");
                }
            }

            var compared = rows.Where(r => r.VsBestBaseline is { Count: > 0 }).ToList();
            if (compared.Count > 0)
            {
                var withDifference = columns.Where(c => compared.Any(r => r.VsBestBaseline!.ContainsKey(c))).ToList();
                sb.AppendLine();
                sb.AppendLine("Difference from the best baseline of each column (paired bootstrap over the same users, 95% interval):");
                sb.AppendLine();
                sb.AppendLine("| model | " + string.Join(" | ", withDifference) + " |");
                sb.AppendLine("|---|" + string.Concat(withDifference.Select(_ => "---|")));
                sb.AppendLine("| *best baseline*" + string.Concat(withDifference.Select(c => $" | {compared.Select(r => r.VsBestBaseline!.GetValueOrDefault(c)?.Baseline).FirstOrDefault(b => b is not null) ?? "–"}")) + " |");
                foreach (var row in compared)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"| {row.Model}");
                    foreach (var c in withDifference)
                    {
                        sb.Append(row.VsBestBaseline!.GetValueOrDefault(c) is { } d
                            ? string.Create(CultureInfo.InvariantCulture, $" | {d.Mean:+0.0000;−0.0000;0.0000} ({d.Low:+0.0000;−0.0000;0.0000} to {d.High:+0.0000;−0.0000;0.0000})")
                            : " | –");
                    }

                    sb.AppendLine(" |");
                }
            }

            var notes = rows.Where(r => r.Note is not null).ToList();
            if (notes.Count > 0)
            {
                sb.AppendLine();
                foreach (var row in notes)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"- `{row.Model}`: {row.Note}");
                }
            }
        }

        return sb.ToString();
    }

    private static string Interval(double[]? ci) =>
        ci is { Length: 2 } ? string.Create(CultureInfo.InvariantCulture, $" | {ci[0]:0.0000}–{ci[1]:0.0000}") : " | –";
}
