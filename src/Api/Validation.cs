namespace SessionRec.Api;

/// <summary>Rules for ids and text that come from clients.</summary>
public static class Validation
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

    public static bool IsValidTenant(string tenant)
    {
        if (tenant.Length is 0 or > 64)
        {
            return false;
        }

        foreach (var c in tenant)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
