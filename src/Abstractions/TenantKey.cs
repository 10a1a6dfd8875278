namespace SessionRec.Abstractions;

/// <summary>
/// Builds and splits the string keys of per-(tenant, user) grains. Tenant ids come from configuration and
/// never contain '/', so the first '/' separates the tenant from a user id that may contain anything.
/// </summary>
public static class TenantKey
{
    public static string For(string tenant, string userId) => string.Concat(tenant, "/", userId);

    public static (string Tenant, string UserId) Split(string key)
    {
        var slash = key.IndexOf('/');
        if (slash <= 0)
        {
            throw new ArgumentException($"'{key}' is not a tenant/user key.", nameof(key));
        }

        return (key[..slash], key[(slash + 1)..]);
    }
}
