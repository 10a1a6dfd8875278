namespace SessionRec.Api.Auth;

using System.Security.Claims;
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

    public const string RoleClaim = "role";
    public const string AdminRole = "admin";

    /// <summary>The policy of /v1/admin; every other route's (the default policy) needs a tenant's key.</summary>
    public const string AdminPolicy = "admin";

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

        var identity = new ClaimsIdentity(
            [
                key.IsAdmin ? new Claim(RoleClaim, AdminRole) : new Claim(TenantClaim, key.Tenant),
                new Claim(KeyIdClaim, key.Id),
                new Claim(KeyScopes.Claim, key.EffectiveScope),
            ],
            SchemeName);
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

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var detail = Context.User.HasClaim(RoleClaim, AdminRole)
            ? "The admin key opens only /v1/admin routes; use a tenant's API key here."
            : Context.User.IsPublishable() && !Request.Path.StartsWithSegments("/v1/admin")
                ? "A publishable key may only post events and read recommendations, suggestions and items; call this route from a server with a secret key."
                : "This route needs the admin key (Auth:AdminKey; the embedded default keeps one in data/admin-key.txt).";
        await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Wrong kind of key", detail: detail).ExecuteAsync(Context);
    }
}

public static class TenantExtensions
{
    /// <summary>The tenant of the authenticated key; every route that reads or writes data scopes to it.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim)
        ?? throw new InvalidOperationException("The request was not authenticated with an API key.");
}
