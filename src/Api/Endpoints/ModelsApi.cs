namespace SessionRec.Api.Endpoints;

using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using SessionRec.Abstractions.ModelVersions;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;

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

    public static async Task<Ok<ModelsResponse>> ListModels(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Ok(Response(await grains.GetGrain<IModelVersionsGrain>(user.Tenant()).DescribeAsync()));

    public static async Task<Results<Ok<ModelsResponse>, ProblemHttpResult>> SetActiveModel(ClaimsPrincipal user, IGrainFactory grains, SetActiveModelRequest request)
    {
        if (request.Rollback == true && request.Active is not null)
        {
            return Problems.BadRequest("Ambiguous request", "Send either active or rollback, not both.");
        }

        var versions = grains.GetGrain<IModelVersionsGrain>(user.Tenant());
        var change = request.Rollback == true ? await versions.RollbackAsync() : await versions.ActivateAsync(request.Active);
        return change.Refusal switch
        {
            null => TypedResults.Ok(Response(change.View)),
            ModelChangeRefusal.UnknownVersion => Problems.NotFound("Unknown model version", change.Reason + " GET /v1/models lists them."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Model refused", detail: change.Reason + " The current model keeps serving."),
        };
    }

    private static ModelsResponse Response(ModelVersionsView view) => new(
        view.Serving,
        view.Active,
        view.History,
        [.. view.Activations.Select(a => new ModelActivationResponse(a.Version, a.At, a.Action))],
        [.. view.Versions.Select(v => new ModelVersionResponse(v.Version, v.Kind, v.Created, v.Training, v.Metrics, v.Error))]);
}
