namespace SessionRec.Api.Auth;

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

/// <summary>
/// "Authorization: Bearer &lt;key&gt;" → the key's tenant. Keys are held as SHA-256 digests and never logged.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry registry) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TenantClaim = "tenant";

    /// <summary>A short, non-secret id of the key (a prefix of its digest), for per-key rate limits.</summary>
    public const string KeyIdClaim = "key_id";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header must be 'Bearer <api key>'."));
        }

        var key = registry.Find(header.AsSpan(7).Trim());
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity([new Claim(TenantClaim, key.Value.Tenant), new Claim(KeyIdClaim, key.Value.KeyId)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Missing or unknown API key",
            detail: "Send 'Authorization: Bearer <api key>'. Every route except /health and the API reference needs a key.")
            .ExecuteAsync(Context);
    }
}

/// <summary>The configured keys, by digest, so a key's text is compared in constant time and never kept.</summary>
public sealed class ApiKeyRegistry
{
    private readonly Dictionary<string, string> _tenantByDigest = new(StringComparer.Ordinal);

    public ApiKeyRegistry(IOptions<ApiKeyOptions> options)
    {
        foreach (var entry in options.Value.Keys)
        {
            if (string.IsNullOrWhiteSpace(entry.Key) || string.IsNullOrWhiteSpace(entry.Tenant))
            {
                throw new OptionsValidationException(ApiKeyOptions.SectionName, typeof(ApiKeyOptions), ["Every API key needs a Key and a Tenant."]);
            }

            if (!Validation.IsValidTenant(entry.Tenant))
            {
                throw new OptionsValidationException(ApiKeyOptions.SectionName, typeof(ApiKeyOptions), [$"Tenant ids are 1-64 letters, digits, '-' or '_' ('{entry.Tenant}' is not)."]);
            }

            _tenantByDigest[Digest(entry.Key.AsSpan().Trim())] = entry.Tenant;
        }
    }

    /// <summary>The key's tenant and its id (the first 12 hex digits of its SHA-256), or null for an unknown key.</summary>
    public (string Tenant, string KeyId)? Find(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            return null;
        }

        var digest = Digest(key);
        return _tenantByDigest.TryGetValue(digest, out var tenant) ? (tenant, digest[..12]) : null;
    }

    private static string Digest(ReadOnlySpan<char> key)
    {
        Span<byte> hash = stackalloc byte[32];
        var bytes = Encoding.UTF8.GetBytes(key.ToArray());
        SHA256.HashData(bytes, hash);
        return Convert.ToHexString(hash);
    }
}

public static class TenantExtensions
{
    /// <summary>The tenant of the authenticated key; every route that reads or writes data scopes to it.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim)
        ?? throw new InvalidOperationException("The request was not authenticated with an API key.");
}
