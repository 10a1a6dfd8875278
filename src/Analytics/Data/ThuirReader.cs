namespace SessionRec.Analytics.Data;

using System.Globalization;
using SessionRec.Analytics.Metrics;

/// <summary>One query row of the THUIR TianGong-SS-FSD / TianGong-Qref files.</summary>
public sealed record ThuirQuery(char Reformulation, IReadOnlyList<int> Clicks, IReadOnlyList<int> Usefulness, int Satisfaction);

/// <summary>
/// Reads the query-level files of THUIR's "Reformulation-Aware Metrics" (CIKM'21) data: per line a reformulation
/// type (A, D, K, T, O, F), a click list, a usefulness list and a satisfaction label. Sessions are rebuilt by
/// starting a new one at every 'F' (first query) row, as the files' order allows; results carry no document ids,
/// so a result cannot be recognised across queries (NUM's click enhancement has nothing to act on here).
/// </summary>
public static class ThuirReader
{
    public static IReadOnlyList<ThuirQuery> ReadQueries(string path)
    {
        var rows = new List<ThuirQuery>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var parts = line.Split('\t');
            if (parts.Length != 4 || parts[0].Trim().Length != 1 || !"ADKTOF".Contains(parts[0].Trim()[0], StringComparison.Ordinal)
                || !int.TryParse(parts[3].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var satisfaction))
            {
                throw new InvalidDataException(
                    $"{path}:{lineNumber}: expected 'type<TAB>[clicks]<TAB>[usefulness]<TAB>satisfaction' with type one of A D K T O F.");
            }

            var clicks = ParseList(parts[1], path, lineNumber);
            var usefulness = ParseList(parts[2], path, lineNumber);
            if (clicks.Count != usefulness.Count)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {clicks.Count} clicks but {usefulness.Count} usefulness labels.");
            }

            rows.Add(new ThuirQuery(parts[0].Trim()[0], clicks, usefulness, satisfaction));
        }

        return rows;
    }

    /// <summary>Groups consecutive rows into sessions, a new one at each 'F' row (and at the first row).</summary>
    public static IReadOnlyList<IReadOnlyList<ThuirQuery>> Sessions(IReadOnlyList<ThuirQuery> rows)
    {
        var sessions = new List<IReadOnlyList<ThuirQuery>>();
        List<ThuirQuery>? current = null;
        foreach (var row in rows)
        {
            if (current is null || row.Reformulation == 'F')
            {
                current = [];
                sessions.Add(current);
            }

            current.Add(row);
        }

        return sessions;
    }

    /// <summary>Queries as the metrics see them: usefulness is the judged gain, a click is feedback gain 1.</summary>
    public static EvalSession ToEvalSession(IEnumerable<ThuirQuery> queries) =>
        new(queries.Select(q => new SessionQuery(
            q.Clicks.Select((click, rank) => new ShownResult(null, q.Usefulness[rank], click > 0 ? 1 : 0)).ToList())).ToList());

    private static List<int> ParseList(string text, string path, int lineNumber)
    {
        var trimmed = text.Trim();
        if (!trimmed.StartsWith('[') || !trimmed.EndsWith(']'))
        {
            throw new InvalidDataException($"{path}:{lineNumber}: expected a list like [1, 0, ...], got '{text}'.");
        }

        var values = new List<int>();
        foreach (var part in trimmed[1..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: '{part}' is not an integer.");
            }

            values.Add(value);
        }

        return values;
    }
}
