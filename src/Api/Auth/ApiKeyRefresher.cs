namespace SessionRec.Api.Auth;

using Microsoft.Extensions.Options;
using SessionRec.Silo.Storage;

/// <summary>
/// Loads the managed keys before the API answers (registering the embedded default's generated key the first
/// time), then follows changes other processes make.
/// </summary>
public sealed partial class ApiKeyRefresher(
    ApiKeyRegistry registry,
    IOptions<ApiKeyOptions> options,
    GeneratedKeys generated,
    TimeProvider time,
    ILogger<ApiKeyRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (generated.ApiKey is { } key)
        {
            await registry.EnsureGeneratedAsync(key, GeneratedKeys.DefaultTenant, time.GetUtcNow());
        }

        if (generated.PublishableKey is { } publishable)
        {
            await registry.EnsureGeneratedAsync(publishable, GeneratedKeys.DefaultTenant, time.GetUtcNow(), KeyScopes.Publishable);
        }

        await registry.RefreshAsync(force: true);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await registry.RefreshAsync();
            }
            catch (Exception e) when (StoreFailures.IsStoreError(e))
            {
                // Keep serving with the keys known; the next tick tries again.
                LogRefreshFailed(logger, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-reading the managed API keys failed; keeping the ones loaded")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

/// <summary>The keys the embedded default generated in its data folder (none in a cluster).</summary>
public sealed record GeneratedKeys(string? ApiKey, string? PublishableKey = null)
{
    public const string DefaultTenant = "default";
    public const string ApiKeyFile = "api-key.txt";

    /// <summary>The tenant "default"'s publishable key, for web pages such as the demo shop.</summary>
    public const string PublishableKeyFile = "publishable-key.txt";
    public const string AdminKeyFile = "admin-key.txt";
}
