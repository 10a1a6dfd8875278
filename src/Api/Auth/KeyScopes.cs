namespace SessionRec.Api.Auth;

using Microsoft.AspNetCore.Authorization;

/// <summary>
/// What a tenant's key may do. A secret key (the default) opens every tenant route and belongs on a server. A
/// publishable key is made to sit in a web page's source: it may only post events and read recommendations,
/// suggestions and catalogue items — the routes marked <see cref="KeyScopeExtensions.AllowPublishableKey"/>. A
/// route is secret-only unless it says otherwise, so a new route is never opened to browsers by accident.
/// </summary>
public static class KeyScopes
{
    public const string Secret = "secret";
    public const string Publishable = "publishable";
    public const string All = "'secret' or 'publishable'";

    public const string Claim = "scope";

    /// <summary>Null means the default (secret).</summary>
    public static bool IsKnown(string? scope) => scope is null or Secret or Publishable;
}

/// <summary>Endpoint metadata: a publishable key may call this route.</summary>
public sealed class PublishableKeyAllowed
{
    public static readonly PublishableKeyAllowed Instance = new();
}

public static class KeyScopeExtensions
{
    /// <summary>
    /// Opens the route to publishable keys (browsers) as well as secret ones, and to browsers on the configured
    /// origins (<c>Api:CorsOrigins</c>).
    /// </summary>
    public static TBuilder AllowPublishableKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(PublishableKeyAllowed.Instance).RequireCors(Hosting.ApiHosting.StorefrontCorsPolicy);

    public static bool IsPublishable(this System.Security.Claims.ClaimsPrincipal user) => user.HasClaim(KeyScopes.Claim, KeyScopes.Publishable);
}

/// <summary>Part of every tenant route's policy: a publishable key passes only on a route that allows it.</summary>
public sealed class KeyScopeRequirement : AuthorizationHandler<KeyScopeRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, KeyScopeRequirement requirement)
    {
        var allowed = !context.User.IsPublishable()
            || (context.Resource is HttpContext http && http.GetEndpoint()?.Metadata.GetMetadata<PublishableKeyAllowed>() is not null);
        if (allowed)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
