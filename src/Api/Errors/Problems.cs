namespace SessionRec.Api.Errors;

using Microsoft.AspNetCore.Http.HttpResults;

/// <summary>ProblemDetails results the endpoints return for input they refuse.</summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title, detail: detail);
}
