namespace SessionRec.Api.Endpoints;

using Microsoft.AspNetCore.Http.HttpResults;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.EventContract;
using SessionRec.KnowledgeStore.Suggestions;

/// <summary>
/// What an operator runs with the admin key: tenants' API keys (create, list, revoke, without a restart) and each
/// tenant's suggestion blocklist (applied to the next request).
/// </summary>
public static class AdminApi
{
    public const int MaxNameLength = 200;

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin").WithTags("Admin").RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        group.MapGet("/keys", ListKeys).WithName("ListKeys").WithSummary("API keys (ids, tenants, origin; never the keys), optionally of one tenant.");
        group.MapPost("/keys", CreateKey).WithName("CreateKey").WithSummary("Creates an API key for a tenant (a new tenant if it has none); the key is in this answer only.");
        group.MapDelete("/keys/{id}", RevokeKey).WithName("RevokeKey").WithSummary("Revokes a managed key now (other API processes within Auth:RefreshInterval).");
        group.MapGet("/tenants/{tenant}/suggestions/blocklist", GetBlocklist).WithName("GetBlocklist").WithSummary("The tenant's blocked suggestion phrases and patterns.");
        group.MapPut("/tenants/{tenant}/suggestions/blocklist", SetBlocklist).WithName("SetBlocklist")
            .WithSummary("Replaces the tenant's blocked phrases (whole words, case and punctuation ignored) and patterns (regular expressions).");
        return group;
    }

    public static Results<Ok<KeysResponse>, ProblemHttpResult> ListKeys(ApiKeyRegistry registry, string? tenant = null)
    {
        if (tenant is not null && !Validation.IsValidTenant(tenant))
        {
            return Problems.BadRequest("Invalid tenant", TenantRule);
        }

        return TypedResults.Ok(new KeysResponse([.. registry.List(tenant).Select(k => new KeyResponse(k.Id, k.Tenant, k.Name, k.CreatedAt, k.Source, k.EffectiveScope))]));
    }

    public static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateKey(
        CreateKeyRequest body, ApiKeyRegistry registry, TimeProvider time)
    {
        if (body.Tenant is null || !Validation.IsValidTenant(body.Tenant))
        {
            return Problems.BadRequest("Invalid tenant", TenantRule);
        }

        if (FieldRules.TextProblem("name", body.Name, MaxNameLength) is { } nameProblem)
        {
            return Problems.BadRequest("Invalid name", nameProblem);
        }

        if (!KeyScopes.IsKnown(body.Scope))
        {
            return Problems.BadRequest("Invalid scope", $"scope must be {KeyScopes.All} (publishable: events, recommendations, suggestions and item reads only, for web pages).");
        }

        var (key, info) = await registry.CreateAsync(body.Tenant, body.Name, time.GetUtcNow(), body.Scope ?? KeyScopes.Secret);
        return TypedResults.Created($"/v1/admin/keys/{info.Id}", new CreatedKeyResponse(info.Id, info.Tenant, info.Name, info.CreatedAt, key, info.EffectiveScope));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(string id, ApiKeyRegistry registry)
    {
        if (registry.IsConfigured(id))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Configured key",
                detail: $"Key {id} comes from configuration (Auth:Keys); remove it there and restart.");
        }

        return await registry.RevokeAsync(id)
            ? TypedResults.NoContent()
            : Problems.NotFound("Unknown key", $"No managed key has the id '{id}' (ids are the 12 characters GET /v1/admin/keys lists).");
    }

    public static async Task<Results<Ok<BlocklistResponse>, ProblemHttpResult>> GetBlocklist(string tenant, IGrainFactory grains)
    {
        if (!Validation.IsValidTenant(tenant))
        {
            return Problems.BadRequest("Invalid tenant", TenantRule);
        }

        var list = await grains.GetGrain<ISuggestionGrain>(tenant).GetBlocklistAsync();
        return TypedResults.Ok(new BlocklistResponse(tenant, list.Phrases, list.Patterns));
    }

    public static async Task<Results<Ok<BlocklistResponse>, ProblemHttpResult>> SetBlocklist(string tenant, BlocklistBody body, IGrainFactory grains)
    {
        if (!Validation.IsValidTenant(tenant))
        {
            return Problems.BadRequest("Invalid tenant", TenantRule);
        }

        var phrases = body.Phrases ?? [];
        var patterns = body.Patterns ?? [];
        if (phrases.Count + patterns.Count > SuggestionBlocklist.MaxEntries)
        {
            return Problems.BadRequest("Blocklist too long", $"phrases and patterns take at most {SuggestionBlocklist.MaxEntries} entries together.");
        }

        for (var i = 0; i < phrases.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(phrases[i]) || FieldRules.TextProblem($"phrases[{i}]", phrases[i]) is not null)
            {
                return Problems.BadRequest("Invalid phrase", $"phrases[{i}] must be non-empty text of at most {FieldRules.MaxTextLength} characters without control characters.");
            }
        }

        for (var i = 0; i < patterns.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(patterns[i]) || patterns[i].Length > FieldRules.MaxTextLength)
            {
                return Problems.BadRequest("Invalid pattern", $"patterns[{i}] must be a non-empty regular expression of at most {FieldRules.MaxTextLength} characters.");
            }

            if (SuggestionBlocklist.PatternProblem(patterns[i]) is { } problem)
            {
                return Problems.BadRequest("Invalid pattern", $"patterns[{i}] is not a valid regular expression: {problem}");
            }
        }

        var list = await grains.GetGrain<ISuggestionGrain>(tenant).SetBlocklistAsync(new BlocklistView([.. phrases], [.. patterns]));
        return TypedResults.Ok(new BlocklistResponse(tenant, list.Phrases, list.Patterns));
    }

    private const string TenantRule = "tenant must be 1-64 letters, digits, '-' or '_'.";
}
