namespace SessionRec.Api.Endpoints;

using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;

/// <summary>The tenant's click log, read in sequence order, a page at a time (what `sessionrec export` uses).</summary>
public static class ClickLogApi
{
    public const int MaxPage = 5_000;

    public static RouteGroupBuilder MapClickLogApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/clicklog").WithTags("Click log").RequireAuthorization();
        group.MapGet("/", ReadClickLog).WithName("ReadClickLog")
            .WithSummary("Read click-log records from a sequence number on, optionally only those with timestamps in [from, to).");
        return group;
    }

    public static async Task<Results<Ok<ClickLogPageResponse>, ProblemHttpResult>> ReadClickLog(
        ClaimsPrincipal user, IClickLog clickLog, CancellationToken cancellationToken,
        long? from_sequence = null, int? limit = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var start = from_sequence ?? 1;
        var size = limit ?? 1_000;
        if (start < 1)
        {
            return Problems.BadRequest("Invalid from_sequence", "from_sequence starts at 1.");
        }

        if (size is < 1 or > MaxPage)
        {
            return Problems.BadRequest("Invalid limit", $"limit must be between 1 and {MaxPage}.");
        }

        if (from is not null && to is not null && from >= to)
        {
            return Problems.BadRequest("Invalid time range", "from must be before to.");
        }

        var tenant = user.Tenant();
        var last = await clickLog.LastSequenceAsync(tenant, cancellationToken);
        var records = await clickLog.ReadAsync(tenant, start, size, cancellationToken);
        var page = new List<ClickLogRecordResponse>(records.Count);
        foreach (var record in records)
        {
            var e = record.Event;
            if ((from is null || e.Timestamp >= from) && (to is null || e.Timestamp < to))
            {
                page.Add(new ClickLogRecordResponse(
                    record.Sequence, e.EventId, e.UserId, e.SessionId, e.Type.ToWire(), e.ItemId, e.Query, e.RequestId,
                    e.Position, e.Timestamp, e.ReceivedAt, e.Surface, e.Shown, e.ModelVersion));
            }
        }

        var next = records.Count == 0 ? Math.Max(start, last + 1) : records[^1].Sequence + 1;
        return TypedResults.Ok(new ClickLogPageResponse(page, next, last));
    }
}
