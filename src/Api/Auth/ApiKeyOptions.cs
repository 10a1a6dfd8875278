namespace SessionRec.Api.Auth;

/// <summary>API keys, each bound to one tenant. Keys come from environment or user secrets, never from files in git.</summary>
public sealed class ApiKeyOptions
{
    public const string SectionName = "Auth";

    public List<ApiKeyEntry> Keys { get; set; } = [];
}

public sealed class ApiKeyEntry
{
    public string Key { get; set; } = "";

    public string Tenant { get; set; } = "";
}
