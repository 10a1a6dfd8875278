namespace SessionRec.Api.Endpoints;

using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Analytics;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Abstractions.Statistics;
using SessionRec.Abstractions.Sessions;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Api.Hosting;
using SessionRec.EventContract;
using SessionRec.ServiceDefaults;
using SessionRec.Silo.Sessions;

/// <summary>Per-user routes: the live session, recommendations for it, and erasure.</summary>
public static class UsersApi
{
    public const string RecommendationsSurface = "recommendations";
    public const int MaxExclude = 200;

    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/users").WithTags("Users").RequireAuthorization();
        group.MapGet("/{id}/session", GetSession).WithName("GetSession").WithSummary("The user's live session and recent sessions.");
        group.MapGet("/{id}/recommendations", GetRecommendations).WithName("GetRecommendations").AllowPublishableKey()
            .WithSummary("Recommendations for the user's live session.");
        group.MapDelete("/{id}", EraseUser).WithName("EraseUser")
            .WithSummary("Erase the user's session state, knowledge store and click-log records.");
        return group;
    }

    public static async Task<Results<Ok<UserSessionResponse>, ProblemHttpResult>> GetSession(
        string id, ClaimsPrincipal user, IGrainFactory grains, IOptions<SessionOptions> sessionOptions, TimeProvider time)
    {
        if (FieldRules.PathIdProblem("user id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid user id", problem);
        }

        var view = await grains.GetGrain<IUserSessionGrain>(TenantKey.For(user.Tenant(), id)).GetAsync();
        var current = view.Current;
        var recent = view.Recent.Select(s => ToResponse(s)!).ToList();

        // The grain's latest session is live only while it is inside the inactivity timeout; past it (an imported
        // user's last session, a user who left) it is reported as the most recent of the ended ones.
        if (current is not null && time.GetUtcNow() - current.LastEventAt > sessionOptions.Value.InactivityTimeout)
        {
            recent.Insert(0, ToResponse(current)!);
            current = null;
        }

        return TypedResults.Ok(new UserSessionResponse(view.UserId, ToResponse(current), recent));
    }

    public static async Task<Results<Ok<RecommendationsResponse>, ProblemHttpResult>> GetRecommendations(
        string id,
        string? k,
        string? context_item,
        string? exclude,
        string? rounds,
        string? more,
        ClaimsPrincipal user,
        GrainReferences<IUserSessionGrain> sessions,
        ImpressionLog impressions,
        IOptions<RecommendationRequestOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (FieldRules.PathIdProblem("user id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid user id", problem);
        }

        var o = options.Value;
        var size = o.DefaultK;
        if (k is not null)
        {
            if (!long.TryParse(k, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var asked))
            {
                return Problems.BadRequest("Invalid k", $"k must be a whole number between 1 and {o.MaxK} (larger values are clamped to {o.MaxK}).");
            }

            if (asked < 1)
            {
                return Problems.BadRequest("Invalid k", $"k must be at least 1; got {asked}.");
            }

            size = (int)Math.Min(asked, o.MaxK);
        }

        if (context_item is not null && FieldRules.PathIdProblem("context_item", context_item) is { } contextProblem)
        {
            return Problems.BadRequest("Invalid context_item", contextProblem);
        }

        var excluded = new List<string>();
        if (!string.IsNullOrEmpty(exclude))
        {
            foreach (var part in exclude.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (excluded.Count == MaxExclude)
                {
                    return Problems.BadRequest("Too many exclusions", $"exclude takes at most {MaxExclude} item ids.");
                }

                if (FieldRules.PathIdProblem("exclude", part) is { } excludeProblem)
                {
                    return Problems.BadRequest("Invalid exclude", excludeProblem);
                }

                excluded.Add(part);
            }
        }

        var tenant = user.Tenant();
        var roundCount = o.DefaultRounds(tenant);
        if (rounds is not null)
        {
            if (!int.TryParse(rounds, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out roundCount) || roundCount is < 0 or > RecommendationLimits.MaxRoundsPerRequest)
            {
                return Problems.BadRequest("Invalid rounds", $"rounds must be a whole number between 0 (single pass) and {RecommendationLimits.MaxRoundsPerRequest}; got '{rounds}'.");
            }
        }

        var continuePage = false;
        if (more is not null && !bool.TryParse(more, out continuePage))
        {
            return Problems.BadRequest("Invalid more", $"more must be true or false; got '{more}'.");
        }

        var started = Stopwatch.GetTimestamp();
        // One call: the session grain adds the session's items and purchases and keeps the round state.
        var (list, sessionId) = await sessions.Get(TenantKey.For(tenant, id))
            .RecommendAsync(new SessionRecommendationRequest(size, excluded, context_item, roundCount, continuePage));

        var requestId = ServedIds.RecommendationRequest();
        var items = new List<RecommendationItem>(list.Items.Count);
        var shown = new List<string>(list.Items.Count);
        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            items.Add(new RecommendationItem(item.ItemId, i + 1, item.Score, item.Source, item.Reason, item.Round));
            shown.Add(item.ItemId);
        }

        // Every served list is logged with its request id, so clicks that name the request id attribute to it.
        var now = time.GetUtcNow();
        var impression = new UserEvent(
            ServedIds.Impression(requestId), id, sessionId, EventType.Impression, context_item, null, requestId, null, now, now,
            RecommendationsSurface, shown, list.ModelVersion);
        await impressions.EnqueueAsync(tenant, impression, cancellationToken);
        Telemetry.RecommendationDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        return TypedResults.Ok(new RecommendationsResponse(requestId, list.ModelVersion, id, sessionId, size, items, list.Rounds?.Rounds, list.Rounds is null ? null : list.Continued));
    }

    public static async Task<Results<Ok<EraseUserResponse>, ProblemHttpResult>> EraseUser(
        string id, ClaimsPrincipal user, IGrainFactory grains, IClickLog clickLog, ImpressionLog impressions, Suggestions.LlmSuggester llm, CancellationToken cancellationToken)
    {
        if (FieldRules.PathIdProblem("user id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid user id", problem);
        }

        var tenant = user.Tenant();

        // Impressions served before this call may still be queued: write them first, so erasure finds them.
        // The log goes before the grains: a grain replays the user's log records when it activates.
        await impressions.FlushAsync(cancellationToken);
        var erased = await clickLog.EraseUserAsync(tenant, id, cancellationToken);
        erased += await grains.GetGrain<IClickLogRetentionGrain>(tenant).ForgetUserAsync(id);
        var sessions = grains.GetGrain<IUserSessionGrain>(TenantKey.For(tenant, id));
        var knowledge = grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(tenant, id));
        await sessions.EraseAsync();
        await knowledge.EraseAsync();
        var statisticsClear = await grains.GetGrain<IStatisticsBuilderGrain>(tenant).ForgetUserAsync(id);
        llm.Forget(Suggestions.LlmSuggester.ScopeOf(tenant, id));
        var queryLogClear = await grains.GetGrain<ISuggestionGrain>(tenant).ForgetUserAsync(id);
        var analyticsClear = await grains.GetGrain<IAnalyticsGrain>(tenant).ForgetUserAsync(id);

        // The proof: look again at every place the user's data lived before answering that it is gone.
        var left = new List<string>();
        if (await clickLog.CountUserAsync(tenant, id, cancellationToken) > 0)
        {
            left.Add("click log");
        }

        if ((await sessions.GetAsync()) is { Current: not null } or { Recent.Count: > 0 })
        {
            left.Add("sessions");
        }

        if ((await knowledge.GetAsync()) is { Aggregates.Count: > 0 } or { Stream.Count: > 0 })
        {
            left.Add("knowledge store");
        }

        if (!queryLogClear)
        {
            left.Add("shared query log");
        }

        if (!statisticsClear)
        {
            left.Add("statistics sessions");
        }

        if (!analyticsClear)
        {
            left.Add("session analytics");
        }

        if (left.Count > 0)
        {
            throw new ErasureIncompleteException($"Data of the user was still found in: {string.Join(", ", left)}.");
        }

        return TypedResults.Ok(new EraseUserResponse(id, erased));
    }

    private static SessionResponse? ToResponse(SessionSummary? session) => session is null
        ? null
        : new SessionResponse(
            session.SessionId,
            session.StartedAt,
            session.LastEventAt,
            session.Events.Select(e => new SessionEventResponse(e.EventId, e.Type.ToWire(), e.ItemId, e.Query, e.Timestamp)).ToList());
}
