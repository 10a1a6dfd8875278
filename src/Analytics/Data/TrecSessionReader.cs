namespace SessionRec.Analytics.Data;

using System.Globalization;
using System.Xml.Linq;
using SessionRec.Analytics.Metrics;

/// <summary>One TREC Session Track session: its topic, its interactions (query, ranked results, clicks) and the query that followed.</summary>
public sealed record TrecSession(string Number, string? Topic, IReadOnlyList<TrecInteraction> Interactions, string? CurrentQuery);

public sealed record TrecInteraction(string Query, TimeSpan? Start, IReadOnlyList<TrecResult> Results, IReadOnlyList<TrecClick> Clicks);

public sealed record TrecResult(int Rank, string? DocId, string? Url, string? Title, string? Snippet);

public sealed record TrecClick(int Rank, TimeSpan? Start, TimeSpan? End);

/// <summary>
/// Reads the TREC Session Track XML (2010–2014 share its shape: sessions of interactions with a query, ranked
/// results and clicks, then a current query) and the track's judgment files ("topic subtopic docid grade").
/// Tolerant of the years' differences: the document id is whichever child element of a result ends in "id"
/// (clueweb09id, clueweb12id), the topic comes from the topic element or the session's attribute, and missing
/// snippets, times or clicks are allowed.
/// </summary>
public static class TrecSessionReader
{
    public static IReadOnlyList<TrecSession> ReadSessions(string path)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(path);
        }
        catch (System.Xml.XmlException e)
        {
            throw new InvalidDataException($"{path} is not well-formed XML: {e.Message}", e);
        }

        var sessions = document.Descendants("session").Select(ReadSession).ToList();
        if (sessions.Count == 0)
        {
            throw new InvalidDataException($"{path} has no <session> elements: not a TREC Session Track log.");
        }

        return sessions;
    }

    private static TrecSession ReadSession(XElement session)
    {
        var topic = (string?)session.Element("topic")?.Attribute("num") ?? (string?)session.Attribute("topic");
        var interactions = session.Elements("interaction").Select(interaction =>
        {
            var results = interaction.Element("results")?.Elements("result").Select((result, index) => new TrecResult(
                ParseInt((string?)result.Attribute("rank")) ?? (index + 1),
                result.Elements().FirstOrDefault(e => e.Name.LocalName.EndsWith("id", StringComparison.OrdinalIgnoreCase))?.Value.Trim(),
                result.Element("url")?.Value.Trim(),
                result.Element("title")?.Value.Trim(),
                result.Element("snippet")?.Value.Trim())).ToList() ?? [];
            var clicks = interaction.Element("clicked")?.Elements("click").Select(click => new TrecClick(
                ParseInt(click.Element("rank")?.Value) ?? 0,
                ParseTime((string?)click.Attribute("starttime")),
                ParseTime((string?)click.Attribute("endtime")))).Where(c => c.Rank > 0).ToList() ?? [];
            return new TrecInteraction(
                interaction.Element("query")?.Value.Trim() ?? "", ParseTime((string?)interaction.Attribute("starttime")), results, clicks);
        }).ToList();
        var current = session.Element("currentquery")?.Element("query")?.Value.Trim();
        return new TrecSession((string?)session.Attribute("num") ?? "", topic, interactions, current);
    }

    /// <summary>Graded judgments: (topic, document id) → grade. Lines are "topic subtopic docid grade".</summary>
    public static IReadOnlyDictionary<(string Topic, string DocId), int> ReadJudgments(string path)
    {
        var judgments = new Dictionary<(string, string), int>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            if (parts.Length != 4 || !int.TryParse(parts[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var grade))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected 'topic subtopic docid grade', got '{line}'.");
            }

            var key = (parts[0], parts[2]);
            judgments[key] = Math.Max(grade, judgments.GetValueOrDefault(key, int.MinValue));
        }

        return judgments;
    }

    /// <summary>
    /// A TREC session as the metrics see it: each interaction's results, judged gains from the judgments (negative
    /// grades — spam — count as 0, unjudged as 0) and a click as feedback gain 1.
    /// </summary>
    public static EvalSession ToEvalSession(TrecSession session, IReadOnlyDictionary<(string Topic, string DocId), int>? judgments)
    {
        var queries = session.Interactions.Select(interaction =>
        {
            var clicked = interaction.Clicks.Select(c => c.Rank).ToHashSet();
            return new SessionQuery(interaction.Results.OrderBy(r => r.Rank).Select(r => new ShownResult(
                r.DocId,
                judgments is not null && session.Topic is not null && r.DocId is not null && judgments.TryGetValue((session.Topic, r.DocId), out var g) ? Math.Max(0, g) : 0,
                clicked.Contains(r.Rank) ? 1 : 0)).ToList());
        }).ToList();
        return new EvalSession(queries);
    }

    private static int? ParseInt(string? text) =>
        int.TryParse(text?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static TimeSpan? ParseTime(string? text) =>
        TimeSpan.TryParse(text?.Trim(), CultureInfo.InvariantCulture, out var value) ? value : null;
}
