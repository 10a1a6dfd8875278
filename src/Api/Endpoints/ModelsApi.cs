namespace SessionRec.Api.Endpoints;

using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Silo.Serving;

/// <summary>The tenant's model versions: list them, activate one, roll back, or go back to the baseline.</summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Model versions").RequireAuthorization();
        group.MapGet("/", ListModels).WithName("ListModels")
            .WithSummary("The tenant's model versions (from `sessionrec train`), the active one and the activation history.");
        group.MapPut("/", SetActiveModel).WithName("SetActiveModel")
            .WithSummary("Activate a version ({\"active\": \"v\"}), return to the baseline ({\"active\": null}) or roll back ({\"rollback\": true}). A version that fails its checks is refused (422) and the current one keeps serving.");
        return group;
    }

    public static Ok<ModelsResponse> ListModels(ClaimsPrincipal user, ModelRegistry registry)
    {
        var tenant = user.Tenant();
        var pointer = registry.Pointer(tenant);
        var versions = registry.List(tenant).Select(v => new ModelVersionResponse(v.Version, v.Kind, v.Created, v.Training, v.Metrics, v.Error)).ToList();
        var activations = (pointer.Activations ?? []).Select(a => new ModelActivationResponse(a.Version, a.At, a.Action)).ToList();
        return TypedResults.Ok(new ModelsResponse(registry.Active(tenant)?.Version ?? RecommendationLimits.BaselineModelVersion, pointer.Active, pointer.History, activations, versions));
    }

    public static Results<Ok<ModelsResponse>, ProblemHttpResult> SetActiveModel(ClaimsPrincipal user, ModelRegistry registry, SetActiveModelRequest request)
    {
        var tenant = user.Tenant();
        if (request.Rollback == true && request.Active is not null)
        {
            return Problems.BadRequest("Ambiguous request", "Send either active or rollback, not both.");
        }

        try
        {
            if (request.Rollback == true)
            {
                registry.Rollback(tenant);
            }
            else
            {
                if (request.Active is not null && registry.List(tenant).All(v => v.Version != request.Active))
                {
                    return Problems.NotFound("Unknown model version", $"There is no model version '{request.Active}' for this tenant; GET /v1/models lists them.");
                }

                registry.Activate(tenant, request.Active);
            }
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Model refused", detail: e.Message + " The current model keeps serving.");
        }

        return ListModels(user, registry);
    }
}
