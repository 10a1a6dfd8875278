namespace SessionRec.Api.Auth;

/// <summary>API keys, each bound to one tenant. Keys come from environment or user secrets, never from files in git.</summary>
public sealed class ApiKeyOptions
{
    public const string SectionName = "Auth";

    public List<ApiKeyEntry> Keys { get; set; } = [];

    /// <summary>The key of /v1/admin (key management, blocklists); unset: the embedded default generates one, a cluster has no admin API.</summary>
    public string? AdminKey { get; set; }

    /// <summary>How often a process re-checks the managed keys in the store (revocations made elsewhere reach it within this).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class ApiKeyEntry
{
    public string Key { get; set; } = "";

    public string Tenant { get; set; } = "";

    /// <summary><see cref="KeyScopes.Secret"/> (the default) or <see cref="KeyScopes.Publishable"/>.</summary>
    public string? Scope { get; set; }
}
