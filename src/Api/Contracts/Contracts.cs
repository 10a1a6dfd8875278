namespace SessionRec.Api.Contracts;

// HTTP contracts, apart from the grain wire types: the API can evolve its JSON without touching storage.
// JSON is snake_case (see Program's JSON options); unknown members are refused.

public sealed record ItemBody(
    string? Id,
    string? Title,
    string? Brand,
    IReadOnlyList<string>? Categories,
    IReadOnlyDictionary<string, string>? Attributes,
    decimal? Price,
    bool? Available);

public sealed record UpsertItemsRequest(IReadOnlyList<ItemBody>? Items);

public sealed record UpsertItemsResponse(int Upserted);

/// <summary>GET /v1/items?ids=…: the items found, in the order asked for.</summary>
public sealed record ItemsResponse(IReadOnlyList<ItemResponse> Items);

public sealed record ItemResponse(
    string Id,
    string Title,
    string? Brand,
    IReadOnlyList<string> Categories,
    IReadOnlyDictionary<string, string> Attributes,
    decimal? Price,
    bool Available,
    DateTimeOffset UpdatedAt);

/// <summary>The events of a POST /v1/events, each as the client sent it (the event contract's shape).</summary>
public sealed record PostEventsRequest(IReadOnlyList<EventContract.EventFields?>? Events);

public sealed record EventResult(string? EventId, string Status, string? Reason);

public sealed record PostEventsResponse(int Accepted, int Duplicates, int Rejected, IReadOnlyList<EventResult> Results);

/// <param name="Round">The multi-round retrieval round that found the item (null: not a multi-round candidate).</param>
public sealed record RecommendationItem(string ItemId, int Position, double Score, string Source, string Reason, int? Round = null);

/// <param name="Rounds">Multi-round retrieval rounds run for this session so far (null: single pass).</param>
/// <param name="Continued">True when this page continued the session's earlier rounds (<c>more=true</c>).</param>
public sealed record RecommendationsResponse(
    string RequestId,
    string ModelVersion,
    string UserId,
    string? SessionId,
    int K,
    IReadOnlyList<RecommendationItem> Items,
    int? Rounds = null,
    bool? Continued = null);

public sealed record SessionEventResponse(string EventId, string Type, string? ItemId, string? Query, DateTimeOffset Timestamp);

public sealed record SessionResponse(string SessionId, DateTimeOffset StartedAt, DateTimeOffset LastEventAt, IReadOnlyList<SessionEventResponse> Events);

public sealed record UserSessionResponse(string UserId, SessionResponse? Current, IReadOnlyList<SessionResponse> Recent);

public sealed record EraseUserResponse(string UserId, int ClickLogRecordsErased);

/// <summary>One click-log record as analysts read it (the schema of docs/clicklog.md).</summary>
public sealed record ClickLogRecordResponse(
    long Sequence,
    string EventId,
    string UserId,
    string? SessionId,
    string Type,
    string? ItemId,
    string? Query,
    string? RequestId,
    int? Position,
    DateTimeOffset Timestamp,
    DateTimeOffset ReceivedAt,
    string? Surface,
    IReadOnlyList<string>? Shown,
    string? ModelVersion,
    int Partition = 0);

/// <summary>
/// A page of the click log. <c>next_cursor</c> continues the read; <c>more</c> says whether the log held records
/// after the page. <c>next_sequence</c> and <c>last_sequence</c> are there for a log of one partition (null otherwise),
/// where a sequence number is a place in the whole log.
/// </summary>
public sealed record ClickLogPageResponse(IReadOnlyList<ClickLogRecordResponse> Records, long? NextSequence, long? LastSequence, string NextCursor, bool More);

/// <summary>PUT /v1/models: <c>active</c> names the version to serve (null: the baseline); <c>rollback</c> serves the previous one.</summary>
public sealed record SetActiveModelRequest(string? Active = null, bool? Rollback = null);

public sealed record ModelVersionResponse(string Version, string? Kind, DateTimeOffset? Created, SessionRec.Abstractions.ModelVersions.ModelTrainingView? Training, IReadOnlyDictionary<string, double>? Metrics, string? Error);

/// <summary>GET /v1/models: <c>serving</c> is the version responses name (the baseline when no model is active).</summary>
/// <summary>
/// GET/PUT /v1/models: what serves now; <c>history</c>, the versions a rollback returns to (newest first, the baseline
/// by its name); <c>activations</c>, every activation and rollback (newest first, at most 50).
/// </summary>
public sealed record ModelsResponse(
    string Serving, string? Active, IReadOnlyList<string> History, IReadOnlyList<ModelActivationResponse> Activations, IReadOnlyList<ModelVersionResponse> Versions);

public sealed record ModelActivationResponse(string Version, DateTimeOffset At, string Action);

/// <summary>
/// GET /v1/analytics/sessions: <c>records_read</c>, the click-log records in the sessions counted; <c>truncated</c>,
/// true while the tenant's analytics is still reading its log (newer records are not counted yet).
/// </summary>
public sealed record AnalyticsSessionsResponse(
    string Metric,
    DateTimeOffset? From,
    DateTimeOffset? To,
    string? Surface,
    string? Model,
    int Sessions,
    int Requests,
    long RecordsRead,
    bool Truncated,
    IReadOnlyList<AnalyticsDayRow> ByDay,
    IReadOnlyList<AnalyticsModelRow> ByModel,
    IReadOnlyList<AnalyticsSessionRow> Worst,
    AnalyticsComparison? Comparison,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<string> Surfaces,
    IReadOnlyList<string> Models);

public sealed record AnalyticsDayRow(
    string Day, string Surface, string ModelVersion, int Sessions, int Requests, double? Metric, double Ctr,
    [property: System.Text.Json.Serialization.JsonPropertyName("hr_at_10")] double HitRate10, double Mrr, double Conversion);

public sealed record AnalyticsModelRow(
    string Surface, string ModelVersion, int Sessions, int Requests, double? Metric, double? MetricLow, double? MetricHigh, double Ctr,
    [property: System.Text.Json.Serialization.JsonPropertyName("hr_at_10")] double HitRate10, double Mrr, double Conversion);

public sealed record AnalyticsSessionRow(
    string SessionId, string UserId, DateTimeOffset Start, DateTimeOffset End, string Surface, string ModelVersion, int Requests, int ClickedRequests, double? Metric);

/// <summary>mean(B) − mean(A) of the session metric with its 95% interval (normal, Welch).</summary>
public sealed record AnalyticsComparison(
    string A, string B, string Metric, int SessionsA, int SessionsB, double? MeanA, double? MeanB, double? Difference, double? Low, double? High);

/// <summary>GET /v1/analytics/sessions/{id}.</summary>
public sealed record AnalyticsTimelineResponse(
    string SessionId, string UserId, DateTimeOffset Start, DateTimeOffset End, IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<AnalyticsListRow> Lists, IReadOnlyList<AnalyticsEventRow> Events);

public sealed record AnalyticsListRow(
    string RequestId, string Surface, string? ModelVersion, DateTimeOffset At, string? Context, IReadOnlyList<string> Shown, IReadOnlyList<AnalyticsFeedbackRow> Feedback);

public sealed record AnalyticsFeedbackRow(string Type, string Target, int Position, DateTimeOffset At);

public sealed record AnalyticsEventRow(
    long Sequence, string Type, DateTimeOffset Timestamp, string? ItemId, string? Query, string? RequestId, int? Position, string? Surface, string? ModelVersion);

public sealed record EntityResponse(string Id, string Name);

public sealed record SuggestionItem(string Text, int Position, string Source, IReadOnlyList<EntityResponse> Entities, string Rationale);

/// <summary>
/// GET /v1/users/{id}/suggestions. A click on a suggestion is a <c>suggestion_click</c> event with this request id
/// and the text as query. <c>Llm</c> says what the LLM path did (absent when none is configured): Answered,
/// Cached, DeadlinePassed, Failed, Refused (the answer failed validation) or BreakerOpen.
/// </summary>
public sealed record SuggestionsResponse(string RequestId, string ModelVersion, string UserId, string Query, IReadOnlyList<SuggestionItem> Suggestions, string? Llm = null);

public sealed record KnowledgeEntityResponse(string Id, string Name, int Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, IReadOnlyDictionary<string, int> BySource);

public sealed record KnowledgeRecordResponse(DateTimeOffset At, string Source, string Text, string? ItemId, IReadOnlyList<EntityResponse> Entities);

/// <summary>GET /v1/users/{id}/knowledge: entities newest first, then the memory stream newest first.</summary>
public sealed record KnowledgeResponse(string UserId, IReadOnlyList<KnowledgeEntityResponse> Entities, IReadOnlyList<KnowledgeRecordResponse> Stream);

public sealed record CreateKeyRequest(string? Tenant, string? Name, string? Scope = null);

/// <summary>A new key: <c>key</c> is shown this once; the service keeps only its digest.</summary>
public sealed record CreatedKeyResponse(string Id, string Tenant, string? Name, DateTimeOffset? CreatedAt, string Key, string Scope = SessionRec.Api.Auth.KeyScopes.Secret);

public sealed record KeyResponse(string Id, string Tenant, string? Name, DateTimeOffset? CreatedAt, string Source, string Scope = SessionRec.Api.Auth.KeyScopes.Secret);

public sealed record KeysResponse(IReadOnlyList<KeyResponse> Keys);

public sealed record BlocklistBody(IReadOnlyList<string>? Phrases, IReadOnlyList<string>? Patterns);

public sealed record BlocklistResponse(string Tenant, IReadOnlyList<string> Phrases, IReadOnlyList<string> Patterns);
