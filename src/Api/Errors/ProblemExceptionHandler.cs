namespace SessionRec.Api.Errors;

using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;
using SessionRec.Silo.Storage;

/// <summary>
/// Maps every exception that escapes an endpoint to RFC 7807 ProblemDetails: bad input → 400/413 with what was
/// wrong, an unavailable store or cluster → 503 with Retry-After (the client retries with the same event ids).
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = Classify(exception, IsWrite(context.Request));
        if (status >= 500)
        {
            LogServerError(logger, exception, status);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    private static bool IsWrite(HttpRequest request) => !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method);

    internal static (int Status, string Title, string Detail) Classify(Exception exception, bool write) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (413, "Request body too large", exception.Message),
        BadHttpRequestException { InnerException: JsonException json } =>
            (400, "Malformed JSON body", JsonDetail(json)),
        BadHttpRequestException bad =>
            (bad.StatusCode, "Bad request", "The request could not be read: send the documented JSON body with content-type: application/json."),
        // Any other JSON error is the server's own: a stored value it could not read (a session state read back with
        // zero bytes in it was answered "Malformed JSON body" to a GET), never the request's.
        JsonException =>
            (500, "Internal error", "Stored data could not be read; the request itself was fine."),
        _ when StoreFailures.IsUnavailable(exception) || StoreFailures.IsGrainStorageUnavailable(exception) =>
            (503, "Storage unavailable", write
                ? "The data store did not answer, or is starting or failing over; nothing from this request was acknowledged. Retry it (events with the same event ids: duplicates are recognised)."
                : "The data store did not answer, or is starting or failing over. Retry shortly."),
        SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException or TimeoutException =>
            (503, "Cluster unavailable", write
                ? "A cluster member did not answer; retry shortly. Events retried with the same event ids are recognised as duplicates."
                : "A cluster member did not answer; retry shortly."),
        SessionRec.Abstractions.ClickLog.ErasureIncompleteException =>
            (500, "Erasure incomplete", exception.Message + " Nothing is reported as erased until all of it is gone: retry the DELETE."),
        OperationCanceledException =>
            (503, "Request cancelled", "The request was cancelled before it completed."),
        _ => (500, "Internal error", "An unexpected error occurred."),
    };

    /// <summary>What was wrong, naming the field (its JSON path) and never a .NET type.</summary>
    private static string JsonDetail(JsonException json)
    {
        var path = json.Path ?? "$";
        var message = json.Message;
        var unknown = UnmappedProperty().Match(message);
        if (unknown.Success)
        {
            return $"Unknown field '{unknown.Groups[1].Value}' at {path}: fields are snake_case and unknown fields are refused.";
        }

        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"The value at {path} does not have the type that field takes.";
        }

        if (message.Contains("depth", StringComparison.OrdinalIgnoreCase))
        {
            return $"The body is nested too deeply (at {path}; at most 16 levels).";
        }

        return $"The body is not valid JSON (at {path}, line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}).";
    }

    [System.Text.RegularExpressions.GeneratedRegex("The JSON property '([^']+)' could not be mapped")]
    private static partial System.Text.RegularExpressions.Regex UnmappedProperty();

    [LoggerMessage(Level = LogLevel.Error, Message = "Request failed with status {Status}")]
    private static partial void LogServerError(ILogger logger, Exception exception, int status);
}
