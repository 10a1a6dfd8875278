namespace SessionRec.Api.Endpoints;

using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Api.Hosting;

/// <summary>Event ingestion: a batch in, a verdict per event out.</summary>
public static class EventsApi
{
    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/events").WithTags("Events").RequireAuthorization();
        group.MapPost("/", PostEvents).WithName("PostEvents").AllowPublishableKey()
            .WithSummary("Record a batch of events; each is accepted, a duplicate, or rejected with the reason.");
        return group;
    }

    public static async Task<Results<Ok<PostEventsResponse>, ProblemHttpResult>> PostEvents(
        PostEventsRequest body, ClaimsPrincipal user, EventIngestion ingestion, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxEventsPerRequest;
        if (body.Events is null || body.Events.Count == 0)
        {
            return Problems.BadRequest("No events", "The body must be {\"events\": [...]} with at least one event.");
        }

        if (body.Events.Count > max)
        {
            return Problems.BadRequest("Too many events", $"At most {max} events per request; this one has {body.Events.Count}. Nothing was recorded.");
        }

        return TypedResults.Ok(await ingestion.IngestAsync(user.Tenant(), body.Events, cancellationToken));
    }
}
