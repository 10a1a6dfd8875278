namespace SessionRec.KnowledgeStore.Text;

using System.Buffers;
using System.Globalization;
using System.Text;

/// <summary>
/// The one normal form every comparison uses: lower case, letters and digits kept, everything else a single space.
/// Singular forms are a small set of English rules (enough for catalogue aliases: "lipsticks" → "lipstick",
/// "brushes" → "brush", "accessories" → "accessory"), never applied to words of three letters or fewer.
/// </summary>
public static class TextNormalizer
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "the", "of", "for", "to", "in", "on", "with", "by", "at", "or", "from", "is", "are", "be",
        "how", "what", "where", "who", "why", "when", "do", "does", "i", "my", "me", "you", "your", "it", "its", "this",
        "that", "as", "&", "vs", "about", "into", "can", "will", "not", "no", "&amp;",
    };

    public static string Normalize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        // Compatibility forms exist only outside ASCII; most texts (every typed prefix, most titles) skip the pass.
        if (!System.Text.Ascii.IsValid(text))
        {
            text = text.Normalize(NormalizationForm.FormKC);
        }

        // The normal form is never longer than the text: characters are lowered, dropped, or one space per run.
        char[]? rented = null;
        var buffer = text.Length <= 256 ? stackalloc char[text.Length] : (rented = ArrayPool<char>.Shared.Rent(text.Length));
        var length = 0;
        var space = false;
        foreach (var ch in text)
        {
            if (char.IsLetterOrDigit(ch))
            {
                if (space && length > 0)
                {
                    buffer[length++] = ' ';
                }

                buffer[length++] = char.ToLower(ch, CultureInfo.InvariantCulture);
                space = false;
            }
            else if (ch is '\'' or '’')
            {
                // "l'oreal" and "men's" stay one word.
                continue;
            }
            else
            {
                space = true;
            }
        }

        var normal = buffer[..length];
        var result = normal.SequenceEqual(text) ? text : new string(normal);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return result;
    }

    public static string[] Tokens(string? text) =>
        Normalize(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public static bool IsStopWord(string token) => StopWords.Contains(token);

    /// <summary>The words that carry meaning: each token in singular form, stop words left out.</summary>
    public static string[] ContentWords(string? text)
    {
        var words = new List<string>();
        foreach (var token in Tokens(text))
        {
            var word = Singular(token);
            if (!IsStopWord(word))
            {
                words.Add(word);
            }
        }

        return [.. words];
    }

    public static string Singular(string word)
    {
        if (word.Length <= 3 || word.EndsWith("ss", StringComparison.Ordinal) || word.EndsWith("us", StringComparison.Ordinal) || word.EndsWith("is", StringComparison.Ordinal))
        {
            return word;
        }

        if (word.EndsWith("ies", StringComparison.Ordinal) && word.Length > 4)
        {
            return word[..^3] + "y";
        }

        if (word.EndsWith("shes", StringComparison.Ordinal) || word.EndsWith("ches", StringComparison.Ordinal) || word.EndsWith("xes", StringComparison.Ordinal) || word.EndsWith("sses", StringComparison.Ordinal))
        {
            return word[..^2];
        }

        return word.EndsWith('s') ? word[..^1] : word;
    }

    /// <summary>The text with every word in singular form (the alias key of a phrase).</summary>
    public static string SingularKey(string? text) => string.Join(' ', Tokens(text).Select(Singular));
}
