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
        long? from_sequence = null, string? cursor = null, int? limit = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var size = limit ?? 1_000;
        if (size is < 1 or > MaxPage)
        {
            return Problems.BadRequest("Invalid limit", $"limit must be between 1 and {MaxPage}.");
        }

        if (from is not null && to is not null && from >= to)
        {
            return Problems.BadRequest("Invalid time range", "from must be before to.");
        }

        var tenant = user.Tenant();
        var partitions = await clickLog.PartitionsAsync(tenant, cancellationToken);
        LogPosition after;
        if (cursor is not null)
        {
            if (from_sequence is not null)
            {
                return Problems.BadRequest("Invalid cursor", "Give cursor or from_sequence, not both.");
            }

            if (!LogPosition.TryParse(cursor, partitions, out after))
            {
                return Problems.BadRequest("Invalid cursor", "cursor must be a next_cursor of an earlier page of this log.");
            }
        }
        else if (from_sequence is { } start)
        {
            if (start < 1)
            {
                return Problems.BadRequest("Invalid from_sequence", "from_sequence starts at 1.");
            }

            if (partitions != 1)
            {
                return Problems.BadRequest("Invalid from_sequence", $"This log has {partitions} partitions, so a sequence number is no place in it: page with cursor (each page's next_cursor).");
            }

            after = LogPosition.Of(start - 1);
        }
        else
        {
            after = LogPosition.Start(partitions);
        }

        var read = await clickLog.ReadAsync(tenant, after, size, cancellationToken);
        var page = new List<ClickLogRecordResponse>(read.Records.Count);
        var next = after.After(read.Records);
        foreach (var record in read.Records)
        {
            var e = record.Event;
            if ((from is null || e.Timestamp >= from) && (to is null || e.Timestamp < to))
            {
                page.Add(new ClickLogRecordResponse(
                    record.Sequence, e.EventId, e.UserId, e.SessionId, e.Type.ToWire(), e.ItemId, e.Query, e.RequestId,
                    e.Position, e.Timestamp, e.ReceivedAt, e.Surface, e.Shown, e.ModelVersion, record.Partition));
            }
        }

        if (partitions != 1)
        {
            return TypedResults.Ok(new ClickLogPageResponse(page, null, null, next.ToString(), read.More));
        }

        // One partition: the sequence numbers as before (a reader past the end is told the end, as it always was).
        var last = (await clickLog.LastPositionAsync(tenant, cancellationToken))[0];
        var nextSequence = read.Records.Count == 0 ? Math.Max(after[0] + 1, last + 1) : next[0] + 1;
        return TypedResults.Ok(new ClickLogPageResponse(page, nextSequence, last, (nextSequence - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), read.More));
    }
}
