namespace SessionRec.KnowledgeStore.Evaluation;

using System.Globalization;
using SessionRec.EventContract;
using SessionRec.KnowledgeStore.Text;

/// <summary>One query of a logged session, with the titles of the results the user opened (when the log has them).</summary>
public sealed record LoggedQuery(string Text, DateTimeOffset At, IReadOnlyList<string> ClickedTitles);

/// <summary>A user's search session.</summary>
public sealed record QuerySession(string UserId, IReadOnlyList<LoggedQuery> Queries)
{
    public DateTimeOffset Start => Queries[0].At;
}

/// <summary>
/// Reads tab-separated query logs and cuts them into sessions. Two layouts: headerless
/// <c>user, time, query</c> (the Excite sample: time as yyMMddHHmmss) and the AOL layout with a header
/// (<c>AnonID, Query, QueryTime, ...</c>); times may also be ISO 8601 or Unix seconds.
/// </summary>
public static class QueryLogReader
{
    public static IReadOnlyList<(string User, DateTimeOffset At, string Query)> ReadTsv(string path)
    {
        var rows = new List<(string, DateTimeOffset, string)>();
        int user = 0, time = 1, query = 2;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var parts = line.Split('\t');
            if (lineNumber == 1 && parts.Any(p => p.Equals("Query", StringComparison.OrdinalIgnoreCase)))
            {
                user = Array.FindIndex(parts, p => p.Equals("AnonID", StringComparison.OrdinalIgnoreCase) || p.Equals("user", StringComparison.OrdinalIgnoreCase));
                time = Array.FindIndex(parts, p => p.Equals("QueryTime", StringComparison.OrdinalIgnoreCase) || p.Equals("time", StringComparison.OrdinalIgnoreCase));
                query = Array.FindIndex(parts, p => p.Equals("Query", StringComparison.OrdinalIgnoreCase));
                if (user < 0 || time < 0)
                {
                    throw new InvalidDataException($"{path}:1: a header needs AnonID (or user), Query and QueryTime (or time) columns.");
                }

                continue;
            }

            if (parts.Length <= Math.Max(user, Math.Max(time, query)))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected tab-separated user, time and query.");
            }

            rows.Add((parts[user].Trim(), ParseTime(parts[time].Trim(), path, lineNumber), parts[query].Trim()));
        }

        return rows;
    }

    public static DateTimeOffset ParseTime(string text, string path, int lineNumber)
    {
        if (text.Length == 12 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && DateTime.TryParseExact(text, "yyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var excite))
        {
            return new DateTimeOffset(excite, TimeSpan.Zero);
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) && text.Length >= 9)
        {
            return DateTimeOffset.FromUnixTimeSeconds(unix);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed;
        }

        throw new InvalidDataException($"{path}:{lineNumber}: '{text}' is not a time (yyMMddHHmmss, ISO 8601 or Unix seconds).");
    }

    /// <summary>
    /// Per user in time order, a new session after 30 minutes without a query. Empty queries are dropped and a
    /// query repeating the one before it (normal form) is merged into it: in these logs a repeat is the next page
    /// of results, not a new query.
    /// </summary>
    public static IReadOnlyList<QuerySession> Sessions(IEnumerable<(string User, DateTimeOffset At, string Query)> rows)
    {
        var sessions = new List<QuerySession>();
        foreach (var user in rows.GroupBy(r => r.User, StringComparer.Ordinal))
        {
            List<LoggedQuery>? current = null;
            var lastAt = DateTimeOffset.MinValue;
            foreach (var (_, at, text) in user.OrderBy(r => r.At))
            {
                var key = TextNormalizer.Normalize(text);
                if (key.Length == 0)
                {
                    continue;
                }

                if (current is null || SessionRule.StartsNew(at, null, lastAt, null, SessionRule.DefaultInactivity))
                {
                    current = [];
                    sessions.Add(new QuerySession(user.Key, current));
                }

                lastAt = at;
                if (current.Count == 0 || TextNormalizer.Normalize(current[^1].Text) != key)
                {
                    current.Add(new LoggedQuery(text, at, []));
                }
            }
        }

        return sessions.OrderBy(s => s.Start).ThenBy(s => s.UserId, StringComparer.Ordinal).ToList();
    }
}
