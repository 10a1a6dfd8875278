namespace SessionRec.Abstractions.Analytics;

/// <summary>What an analyst asks: whole UTC days from <c>From</c> to the instant before <c>To</c>, a surface, a model, a metric.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.AnalyticsQueryView")]
public sealed record AnalyticsQueryView(
    [property: Id(0)] DateTimeOffset? From,
    [property: Id(1)] DateTimeOffset? To,
    [property: Id(2)] string? Surface,
    [property: Id(3)] string? Model,
    [property: Id(4)] string Metric,
    [property: Id(5)] int Worst,
    [property: Id(6)] string? CompareA,
    [property: Id(7)] string? CompareB);

/// <summary>A mean with its 95% interval (NaN where undefined).</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.EstimateView")]
public sealed record EstimateView([property: Id(0)] double Value, [property: Id(1)] double Low, [property: Id(2)] double High);

[GenerateSerializer, Immutable]
[Alias("SessionRec.AnalyticsDayView")]
public sealed record AnalyticsDayView(
    [property: Id(0)] DateOnly Day, [property: Id(1)] string Surface, [property: Id(2)] string ModelVersion, [property: Id(3)] int Sessions,
    [property: Id(4)] int Requests, [property: Id(5)] double Metric, [property: Id(6)] double Ctr, [property: Id(7)] double HitRate10,
    [property: Id(8)] double Mrr, [property: Id(9)] double Conversion);

[GenerateSerializer, Immutable]
[Alias("SessionRec.AnalyticsModelView")]
public sealed record AnalyticsModelView(
    [property: Id(0)] string Surface, [property: Id(1)] string ModelVersion, [property: Id(2)] int Sessions, [property: Id(3)] int Requests,
    [property: Id(4)] EstimateView Metric, [property: Id(5)] double Ctr, [property: Id(6)] double HitRate10, [property: Id(7)] double Mrr,
    [property: Id(8)] double Conversion);

[GenerateSerializer, Immutable]
[Alias("SessionRec.AnalyticsWorstView")]
public sealed record AnalyticsWorstView(
    [property: Id(0)] string SessionId, [property: Id(1)] string UserId, [property: Id(2)] DateTimeOffset Start, [property: Id(3)] DateTimeOffset End,
    [property: Id(4)] string Surface, [property: Id(5)] string ModelVersion, [property: Id(6)] int Requests, [property: Id(7)] int ClickedRequests,
    [property: Id(8)] double Metric);

[GenerateSerializer, Immutable]
[Alias("SessionRec.AnalyticsComparisonView")]
public sealed record AnalyticsComparisonView(
    [property: Id(0)] string A, [property: Id(1)] string B, [property: Id(2)] int SessionsA, [property: Id(3)] int SessionsB,
    [property: Id(4)] EstimateView MeanA, [property: Id(5)] EstimateView MeanB, [property: Id(6)] EstimateView Difference);

/// <summary>
/// A session analytics report: <c>Records</c> log records in the sessions it covers, read up to log position
/// <c>Position</c>; <c>Behind</c> when the log had more records than the builder had read when it answered.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.AnalyticsReportView")]
public sealed record AnalyticsReportView(
    [property: Id(0)] string Metric,
    [property: Id(1)] int Sessions,
    [property: Id(2)] int Requests,
    [property: Id(3)] long Records,
    [property: Id(4)] long Position,
    [property: Id(5)] bool Behind,
    [property: Id(6)] IReadOnlyList<AnalyticsDayView> ByDay,
    [property: Id(7)] IReadOnlyList<AnalyticsModelView> ByModel,
    [property: Id(8)] IReadOnlyList<AnalyticsWorstView> Worst,
    [property: Id(9)] AnalyticsComparisonView? Comparison,
    [property: Id(10)] IReadOnlyList<string> Surfaces,
    [property: Id(11)] IReadOnlyList<string> Models);

/// <summary>
/// One tenant's session analytics: follows the click log, assembles sessions as they happen and adds each closed
/// session to per-day × surface × model aggregates, published with its checkpoint like every snapshot builder. A
/// report reads the aggregates and the open sessions — never the raw log.
/// </summary>
[Alias("SessionRec.IAnalyticsGrain")]
public interface IAnalyticsGrain : IGrainWithStringKey
{
    /// <summary>Reads what the log gained since the last step (at most one read batch), then reports.</summary>
    [Alias("ReportAsync")]
    Task<AnalyticsReportView> ReportAsync(AnalyticsQueryView query);

    /// <summary>Reads the log to its end and publishes; returns the log position covered.</summary>
    [Alias("CatchUpAsync")]
    Task<long> CatchUpAsync();

    /// <summary>The next step of reading the log (the grain asks itself while it is behind).</summary>
    [Alias("ContinueCatchUpAsync"), Orleans.Concurrency.OneWay]
    Task ContinueCatchUpAsync();

    /// <summary>The log has records up to <paramref name="lastSequence"/>: read them now rather than at the next tick.</summary>
    [Alias("LogAdvancedAsync"), Orleans.Concurrency.OneWay]
    Task LogAdvancedAsync(long lastSequence);

    /// <summary>
    /// Takes the user's sessions out: open ones dropped, closed ones subtracted from the aggregates and off the worst
    /// lists, their stored digests deleted; published before answering. True when a read of the store afterwards finds
    /// the user nowhere (erasure's proof).
    /// </summary>
    [Alias("ForgetUserAsync")]
    Task<bool> ForgetUserAsync(string userId);
}
