namespace SessionRec.Api.Hosting;

using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

/// <summary>
/// Declares the bearer API key in the OpenAPI document, so the reference page's "try it" can send one and client
/// generators know every operation needs it (health and the reference itself are not in the document).
/// </summary>
public sealed class ApiKeySecurityScheme : IOpenApiDocumentTransformer
{
    public const string Name = "apiKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Name] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A tenant's API key (the embedded default keeps one in data/api-key.txt), or the admin key for /v1/admin.",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Name, document)] = [] }];
        return Task.CompletedTask;
    }
}
