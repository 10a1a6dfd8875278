namespace SessionRec.Api.Hosting;

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SessionRec.Api.Auth;
using SessionRec.Api.Endpoints;
using SessionRec.Api.Errors;
using SessionRec.ServiceDefaults;
using SessionRec.Silo.Embedded;
using SessionRec.Silo.Hosting;
using SessionRec.Silo.Storage;

/// <summary>
/// How the API process is composed. Two run modes:
/// - embedded default (no ConnectionStrings:Redis): an in-process Garnet server on loopback persisting to the
///   data folder, and a co-hosted silo on localhost clustering;
/// - cluster (ConnectionStrings:Redis set): Redis clustering and storage; the API co-hosts a silo
///   (Orleans:Role=Silo, the default) or joins as a client (Orleans:Role=Client).
/// </summary>
public static class ApiHosting
{
    public const string RateLimitPolicy = "per-key";

    public static WebApplicationBuilder AddSessionRecApi(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.AddServiceDefaults();

        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<Endpoints.RecommendationRequestOptions>().BindConfiguration(Endpoints.RecommendationRequestOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName);

        // The API splits sessions too (analytics, the live-session view): by the silos' rule and timeout, also in client mode.
        builder.Services.AddOptions<Silo.Sessions.SessionOptions>().BindConfiguration(Silo.Sessions.SessionOptions.SectionName);
        builder.Services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.SectionName);

        var storage = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        var redis = configuration.GetConnectionString(OrleansSettings.RedisConnectionName);
        var embedded = string.IsNullOrWhiteSpace(redis);
        if (embedded)
        {
            // The text encoder loads beside the store's recovery, not after it: both take seconds, on different
            // resources (measured on a restart with a 2M-record log: the start waited ~1.1 s for the encoder).
            if ((configuration.GetSection(Silo.Knowledge.KnowledgeServiceOptions.SectionName).Get<Silo.Knowledge.KnowledgeServiceOptions>() ?? new()).SemanticLinking)
            {
                var encoder = new Silo.Knowledge.SemanticEncoder();
                _ = encoder.StartLoading();
                builder.Services.AddSingleton(_ => encoder);
            }

            var garnet = EmbeddedGarnet.Start(storage.DataPath, storage);
            builder.Services.AddSingleton(garnet);
            builder.Services.AddSingleton<IWriteBarrier, GarnetCommitBarrier>();
            redis = garnet.ConnectionString;
            builder.Services.AddSingleton(EnsureKeyFiles(builder, storage.DataPath));
        }
        else
        {
            builder.Services.AddSingleton(new GeneratedKeys(null));
        }

        builder.Services.AddSessionRecStorage(redis!);
        var orleans = OrleansSettings.From(configuration);
        if (!embedded && orleans.IsClient)
        {
            builder.UseOrleansClient(client => client.ConfigureSessionRecClient(configuration, redis!));
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.AddOptions<Silo.Knowledge.KnowledgeServiceOptions>().BindConfiguration(Silo.Knowledge.KnowledgeServiceOptions.SectionName);
        }
        else
        {
            var siloPort = orleans.SiloPort ?? (embedded ? EmbeddedGarnet.FreeLoopbackPort() : OrleansSettings.DefaultSiloPort);
            var gatewayPort = orleans.GatewayPort ?? (embedded ? EmbeddedGarnet.FreeLoopbackPort() : OrleansSettings.DefaultGatewayPort);
            builder.UseOrleans(silo => silo.ConfigureSessionRecSilo(configuration, redis!, localhostClustering: embedded, siloPort, gatewayPort));
        }

        builder.Services.AddSingleton<ApiKeyRegistry>();
        builder.Services.AddHostedService<ApiKeyRefresher>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthenticationHandler.AdminPolicy, p => p.RequireClaim(ApiKeyAuthenticationHandler.RoleClaim, ApiKeyAuthenticationHandler.AdminRole))
            // No scheme named in the policy: the API key scheme is the default, so the authentication middleware's
            // user is the policy's (naming it made every request authenticate twice).
            .SetDefaultPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder()
                .RequireClaim(ApiKeyAuthenticationHandler.TenantClaim)
                .AddRequirements(new KeyScopeRequirement())
                .Build());
        builder.Services.AddSingleton<EventIngestion>();
        builder.Services.AddSingleton<LogAdvanceNotices>();
        builder.Services.AddSingleton(typeof(GrainReferences<>));
        builder.Services.AddSingleton<ImpressionLog>();
        builder.Services.AddOptions<Suggestions.LlmOptions>().BindConfiguration(Suggestions.LlmOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Suggestions.LlmSuggester>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ImpressionLog>());
        builder.Services.AddHealthChecks().AddCheck<ClusterReadyCheck>("cluster", tags: [ServiceDefaultsExtensions.ReadyTag]);

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<ApiKeySecurityScheme>());
        AddRateLimiting(builder);
        AddStorefrontCors(builder);

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = configuration.GetValue($"{ApiOptions.SectionName}:MaxRequestBodyBytes", 2L * 1024 * 1024);
            k.Limits.MaxRequestLineSize = RequestTargetLimitMiddleware.ServerRequestLineBytes;
        });
        return builder;
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.MaxDepth = 16;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
    }

    public static WebApplication MapSessionRecApi(this WebApplication app)
    {
        // The embedded store stops last, after the silo has written its grains' state, with a final checkpoint.
        if (app.Services.GetService<EmbeddedGarnet>() is { } garnet)
        {
            app.Lifetime.ApplicationStopped.Register(garnet.Dispose);
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestTargetLimitMiddleware>();

        // The analyst dashboard's and the demo shop's static files (no data in them: every number comes from the API
        // with the key the user gives the page), served before authentication.
        // A route would also match "/dashboard/" (routing ignores the trailing slash), hence middleware.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value is "/dashboard" or "/demo")
            {
                context.Response.Redirect(context.Request.Path.Value + "/");
                return Task.CompletedTask;
            }

            return next(context);
        });
        // Only under their folders: outside them the file middlewares would look for a directory on disk for
        // every GET of the API.
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments("/dashboard") || context.Request.Path.StartsWithSegments("/demo"),
            files => files.UseDefaultFiles().UseStaticFiles());
        app.UseMiddleware<BodySizeLimitMiddleware>();
        app.UseRouting();
        app.UseCors();
        app.UseAuthentication();

        // Before authorization, so that requests with a refused key are limited before their 401.
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapDefaultEndpoints();
        app.MapOpenApi().AllowAnonymous();
        Scalar.AspNetCore.ScalarEndpointRouteBuilderExtensions.MapScalarApiReference(app).AllowAnonymous();

        var v1 = app.MapGroup("").RequireRateLimiting(RateLimitPolicy);
        v1.MapItemsApi();
        v1.MapEventsApi();
        v1.MapUsersApi();
        v1.MapClickLogApi();
        v1.MapModelsApi();
        v1.MapAnalyticsApi();
        v1.MapSuggestionsApi();
        v1.MapAdminApi();
        return app;
    }

    /// <summary>
    /// Browsers on the configured origins may call the routes open to publishable keys (and no other: the policy is
    /// attached to those endpoints alone); preflights are answered before authentication.
    /// </summary>
    private static void AddStorefrontCors(WebApplicationBuilder builder)
    {
        var origins = builder.Configuration.GetSection($"{ApiOptions.SectionName}:{nameof(ApiOptions.CorsOrigins)}").Get<string[]>() ?? [];
        builder.Services.AddCors(cors => cors.AddPolicy(StorefrontCorsPolicy, policy => policy
            .WithOrigins(origins)
            .WithMethods("GET", "POST")
            .WithHeaders("authorization", "content-type")
            .WithExposedHeaders("retry-after")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
    }

    public const string StorefrontCorsPolicy = "storefront";

    private static void AddRateLimiting(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ApiOptions.SectionName).Get<ApiOptions>() ?? new ApiOptions();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(RateLimitPolicy, context =>
            {
                // One bucket per API key; requests without an accepted key are the global limiter's (and then 401).
                // A publishable key is shared by every browser of a shop: one bucket per key and client address.
                var keyId = context.User.FindFirst(ApiKeyAuthenticationHandler.KeyIdClaim)?.Value;
                var publishable = keyId is not null && context.User.IsPublishable();
                if (publishable)
                {
                    keyId += "@" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                }

                return keyId is null ? RateLimitPartition.GetNoLimiter("unauthenticated") : RateLimitPartition.GetTokenBucketLimiter(keyId, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = publishable ? options.PublishableRateLimitBurst : options.RateLimitBurst,
                    TokensPerPeriod = publishable ? options.PublishableRateLimitPerSecond : options.RateLimitPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => RefusedKey(context)
                ? RateLimitPartition.GetTokenBucketLimiter("refused:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = 2 * options.FailedAuthPerSecond,
                    TokensPerPeriod = options.FailedAuthPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(string.Empty));
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    title: "Too many requests",
                    detail: RefusedKey(context.HttpContext)
                        ? $"Too many requests with a refused API key from this address (limit {options.FailedAuthPerSecond} per second). Retry after {retryAfter} s."
                        : context.HttpContext.User.IsPublishable()
                            ? $"A publishable key's rate limit is {options.PublishableRateLimitPerSecond} requests per second from one address. Retry after {retryAfter} s."
                            : $"This API key's rate limit is {options.RateLimitPerSecond} requests per second. Retry after {retryAfter} s.")
                    .ExecuteAsync(context.HttpContext);
            };
        });
    }

    /// <summary>A request that sent an Authorization header the service did not accept.</summary>
    private static bool RefusedKey(HttpContext context) =>
        context.User.Identity?.IsAuthenticated != true && context.Request.Headers.Authorization.Count > 0;

    /// <summary>
    /// The embedded default keeps its keys in its data folder, made at the first start (mode 600, never logged):
    /// api-key.txt, a secret key of the tenant "default" that works beside any configured key until it is revoked
    /// (so the quick start works without setup); publishable-key.txt, the same tenant's publishable key for web
    /// pages (the demo shop); and admin-key.txt, the admin key, unless Auth:AdminKey is set.
    /// </summary>
    private static GeneratedKeys EnsureKeyFiles(WebApplicationBuilder builder, string dataPath)
    {
        var folder = Path.GetFullPath(dataPath);
        var apiKey = SecretFile.ReadOrCreate(Path.Combine(folder, GeneratedKeys.ApiKeyFile), () => ApiKeyRegistry.NewKey());
        var publishableKey = SecretFile.ReadOrCreate(Path.Combine(folder, GeneratedKeys.PublishableKeyFile), () => ApiKeyRegistry.NewKey(KeyScopes.Publishable));
        if (string.IsNullOrWhiteSpace(builder.Configuration[$"{ApiKeyOptions.SectionName}:AdminKey"]))
        {
            var adminKey = SecretFile.ReadOrCreate(Path.Combine(folder, GeneratedKeys.AdminKeyFile), () => "sra_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"{ApiKeyOptions.SectionName}:AdminKey"] = adminKey });
        }

        return new GeneratedKeys(apiKey, publishableKey);
    }
}

/// <summary>Refuses bodies over the limit with 413 before reading them (Kestrel does too; this covers other servers).</summary>
public sealed class BodySizeLimitMiddleware(RequestDelegate next, Microsoft.Extensions.Options.IOptions<ApiOptions> options)
{
    // Not async: a request within the limit passes on without a state machine of its own.
    public Task InvokeAsync(HttpContext context)
    {
        var limit = options.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Request body too large",
                detail: $"The body has {context.Request.ContentLength} bytes; the limit is {limit}.").ExecuteAsync(context);
        }

        var feature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(context);
    }
}

/// <summary>Ready = at least one silo of the cluster is active and answers a grain call.</summary>
public sealed class ClusterReadyCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return hosts.Count > 0 ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s)") : HealthCheckResult.Unhealthy("No active silo.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The cluster did not answer.", e);
        }
    }
}
