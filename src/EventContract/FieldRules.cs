namespace SessionRec.EventContract;

/// <summary>
/// Rules for ids and text that come from clients — events, items, queries — wherever they enter: the HTTP API and the
/// CLI's direct import apply the same ones, so nothing stored could not have been posted. A problem is a sentence
/// that names the field as the client spells it.
/// </summary>
public static class FieldRules
{
    public const int MaxIdLength = 256;
    public const int MaxTextLength = 1024;

    /// <summary>Ids: 1-256 characters, no control characters, not only whitespace.</summary>
    public static string? IdProblem(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return $"{field} is required.";
        }

        if (value.Length > MaxIdLength)
        {
            return $"{field} is longer than {MaxIdLength} characters.";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
            {
                return $"{field} contains a control character.";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"{field} contains an unpaired surrogate (invalid UTF-16).";
            }
        }

        return null;
    }

    /// <summary>
    /// User and item ids also name resources in URL paths (<c>/v1/users/{id}</c>, <c>/v1/items/{id}</c>), so
    /// whatever is accepted can be read and erased: no '/' (nor its URL encoding "%2F", which the server cannot tell
    /// from an encoded slash), and not "." or ".." (which URL paths resolve away). Refused at ingestion with this
    /// rule, so no such id is ever stored.
    /// </summary>
    public static string? PathIdProblem(string field, string? value)
    {
        if (IdProblem(field, value) is { } problem)
        {
            return problem;
        }

        if (value!.Contains('/', StringComparison.Ordinal) || value.Contains("%2F", StringComparison.OrdinalIgnoreCase))
        {
            return $"{field} must not contain '/' (or \"%2F\"): ids are part of URL paths.";
        }

        if (value is "." or "..")
        {
            return $"{field} must not be \".\" or \"..\": ids are part of URL paths.";
        }

        return null;
    }

    public static string? TextProblem(string field, string? value, int max = MaxTextLength)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > max)
        {
            return $"{field} is longer than {max} characters.";
        }

        foreach (var c in value)
        {
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            {
                return $"{field} contains a control character.";
            }
        }

        return null;
    }
}
