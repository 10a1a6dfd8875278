namespace SessionRec.KnowledgeStore.Llm;

using System.Text.Json;
using System.Text.RegularExpressions;
using SessionRec.KnowledgeStore.Text;

/// <summary>One validated LLM suggestion.</summary>
public sealed record LlmSuggestion(string Query, string Rationale);

/// <summary>Why an LLM answer was refused as a whole.</summary>
public sealed class LlmOutputException(string message) : Exception(message);

/// <summary>
/// Parses and validates an LLM answer. The answer must be the JSON object the prompt asked for (a fenced code
/// block around it is tolerated); each suggestion is kept only if its query is 1–80 characters, starts with the
/// typed prefix (normal form) when there is one, and neither it nor its rationale contains a URL, an e-mail
/// address, a phone-number-like digit run or control characters. Suggestions that fail are dropped one by one;
/// an answer that is not that JSON at all is refused.
/// </summary>
public static partial class LlmOutput
{
    public static IReadOnlyList<LlmSuggestion> Parse(string? answer, string prefix, int max)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            throw new LlmOutputException("empty answer");
        }

        var text = answer.Trim();
        var fence = Fence().Match(text);
        if (fence.Success)
        {
            text = fence.Groups["body"].Value.Trim();
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new LlmOutputException("not JSON: " + e.Message);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("suggestions", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new LlmOutputException("no \"suggestions\" array");
        }

        var normalizedPrefix = TextNormalizer.Normalize(prefix);
        var result = new List<LlmSuggestion>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in list.EnumerateArray())
        {
            if (result.Count == max)
            {
                break;
            }

            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("query", out var q) || q.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            var query = q.GetString()!.Trim();
            var rationale = item.TryGetProperty("rationale", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()!.Trim() : "";
            var key = TextNormalizer.Normalize(query);
            if (query.Length is 0 or > LlmPrompt.MaxQueryLength || key.Length == 0 || !key.StartsWith(normalizedPrefix, StringComparison.Ordinal)
                || rationale.Length > LlmPrompt.MaxRationaleLength || Unsafe(query) || Unsafe(rationale) || !seen.Add(key))
            {
                continue;
            }

            result.Add(new LlmSuggestion(query, rationale.Length == 0 ? "suggested for your interests" : rationale));
        }

        return result;
    }

    /// <summary>URLs, e-mail addresses, phone-number-like digit runs, control characters.</summary>
    public static bool Unsafe(string text) =>
        text.Any(char.IsControl) || Url().IsMatch(text) || Email().IsMatch(text) || Phone().IsMatch(text);

    [GeneratedRegex(@"^```(?:json)?\s*(?<body>[\s\S]*?)\s*```$", RegexOptions.IgnoreCase)]
    private static partial Regex Fence();

    [GeneratedRegex(@"(https?://|ftp://|www\.|\b[a-z0-9-]+\.(com|net|org|io|ru|cn|info|biz|xyz|co|de|uk|app|dev|ly)\b)", RegexOptions.IgnoreCase)]
    private static partial Regex Url();

    [GeneratedRegex(@"[^\s@]+@[^\s@]+\.[^\s@]+")]
    private static partial Regex Email();

    [GeneratedRegex(@"(\+?\d[\d\s().-]{7,}\d)")]
    private static partial Regex Phone();
}
