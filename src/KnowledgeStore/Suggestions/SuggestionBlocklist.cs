namespace SessionRec.KnowledgeStore.Suggestions;

using System.Text.RegularExpressions;
using SessionRec.KnowledgeStore.Text;

/// <summary>
/// Phrases and patterns an operator never wants suggested. A phrase blocks every suggestion that contains it as
/// whole words (normal form: case, accents and punctuation ignored); a pattern is a .NET regular expression
/// matched against the suggestion's text, case-insensitively, under a time limit (a match that times out counts as
/// blocked: fail closed). Immutable: a change builds a new list.
/// </summary>
public sealed class SuggestionBlocklist
{
    public const int MaxEntries = 10_000;
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(20);
    public static readonly SuggestionBlocklist Empty = new([], []);

    private readonly string[] _phrases;
    private readonly Regex[] _patterns;

    public SuggestionBlocklist(IEnumerable<string> phrases, IEnumerable<string> patterns)
    {
        Phrases = [.. phrases.Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p.Trim()).Distinct(StringComparer.Ordinal)];
        Patterns = [.. patterns.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct(StringComparer.Ordinal)];
        _phrases = [.. Phrases.Select(p => " " + TextNormalizer.Normalize(p) + " ").Where(p => p.Trim().Length > 0)];
        _patterns = [.. Patterns.Select(Compile)];
    }

    public IReadOnlyList<string> Phrases { get; }

    public IReadOnlyList<string> Patterns { get; }

    public bool IsEmpty => _phrases.Length == 0 && _patterns.Length == 0;

    /// <summary>Why a pattern is not a valid regular expression, or null when it is.</summary>
    public static string? PatternProblem(string pattern)
    {
        try
        {
            _ = Compile(pattern);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static Regex Compile(string pattern) => new(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, MatchTimeout);

    public SuggestionBlocklist Union(SuggestionBlocklist other) => new(Phrases.Concat(other.Phrases), Patterns.Concat(other.Patterns));

    public bool Blocks(string text)
    {
        if (IsEmpty)
        {
            return false;
        }

        var normal = " " + TextNormalizer.Normalize(text) + " ";
        foreach (var phrase in _phrases)
        {
            if (normal.Contains(phrase, StringComparison.Ordinal))
            {
                return true;
            }
        }

        foreach (var pattern in _patterns)
        {
            try
            {
                if (pattern.IsMatch(text))
                {
                    return true;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                return true;
            }
        }

        return false;
    }
}
