namespace SessionRec.Api.Hosting;

using Microsoft.Extensions.Options;

/// <summary>
/// Answers request targets over <see cref="ApiOptions.MaxRequestTargetBytes"/> with a 414 problem. Kestrel's own
/// limit (raised to 64 KiB in <see cref="ApiHosting"/>) answers with a bare status before the application runs.
/// </summary>
public sealed class RequestTargetLimitMiddleware(RequestDelegate next, IOptions<ApiOptions> options)
{
    public const int ServerRequestLineBytes = 64 * 1024;

    // Not async: a request within the limit (all but a few) passes on without a state machine of its own.
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var length = request.PathBase.Value?.Length + request.Path.Value?.Length + request.QueryString.Value?.Length ?? 0;
        var limit = options.Value.MaxRequestTargetBytes;
        if (length > limit)
        {
            context.Response.StatusCode = StatusCodes.Status414UriTooLong;
            return Results.Problem(
                statusCode: StatusCodes.Status414UriTooLong,
                title: "Request target too long",
                detail: $"The path and query have {length} characters; the limit is {limit}. Ids are at most 256 characters.")
                .ExecuteAsync(context);
        }

        return next(context);
    }
}
