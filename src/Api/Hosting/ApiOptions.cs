namespace SessionRec.Api.Hosting;

using System.ComponentModel.DataAnnotations;

public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Largest request body accepted; larger bodies get 413 before they are read.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// Longest request target (path and query) answered; longer ones get a 414 problem. The HTTP server itself reads
    /// request lines up to 64 KiB, so that anything between this limit and that one still gets a body that says why.
    /// </summary>
    [Range(1024, 60 * 1024)]
    public int MaxRequestTargetBytes { get; set; } = 8 * 1024;

    [Range(1, 100_000)]
    public int MaxEventsPerRequest { get; set; } = 1_000;

    [Range(1, 100_000)]
    public int MaxItemsPerRequest { get; set; } = 1_000;

    /// <summary>
    /// Events older than this are refused (replays of old data go through the import path's window); never more
    /// than <c>ClickLog:DedupWindow</c> (7 days), which bounds it whatever this says.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan MaxEventAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Clock skew tolerated for timestamps in the future.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxFutureSkew { get; set; } = EventContract.EventWindow.Default.MaxFutureSkew;

    /// <summary>Requests per second per API key (token bucket refill), and the bucket size.</summary>
    [Range(1, 1_000_000)]
    public int RateLimitPerSecond { get; set; } = 5_000;

    [Range(1, 10_000_000)]
    public int RateLimitBurst { get; set; } = 10_000;

    /// <summary>
    /// Requests per second with a publishable key, per key and client address (one shopper's browser; a shared key
    /// must not let one address use the whole shop's budget), and the bucket size.
    /// </summary>
    [Range(1, 1_000_000)]
    public int PublishableRateLimitPerSecond { get; set; } = 50;

    [Range(1, 10_000_000)]
    public int PublishableRateLimitBurst { get; set; } = 200;

    /// <summary>
    /// Web origins (e.g. https://shop.example.com) whose pages may call the routes open to publishable keys from the
    /// browser (CORS). Empty by default: only pages the service serves itself (the demo shop) can.
    /// </summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>
    /// Requests per second, per client address, that carry an Authorization header the service does not accept
    /// (guessing keys costs a client this rate, and the log stays small); the bucket holds twice as many.
    /// </summary>
    [Range(1, 1_000_000)]
    public int FailedAuthPerSecond { get; set; } = 20;

    /// <summary>One session's drill-down (<c>GET /v1/analytics/sessions/{id}</c>) reads at most this many of the user's click-log records.</summary>
    [Range(1_000, 50_000_000)]
    public int AnalyticsMaxRecords { get; set; } = 2_000_000;
}
