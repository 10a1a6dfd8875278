namespace SessionRec.Silo.Recommendations;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Replicas;
using SessionRec.Silo.Serving;
using SessionRec.Silo.Statistics;

/// <summary>
/// Loads, while the process starts, what the first model recommendation of the tenants serving a model needs on this
/// silo: the model, the catalogue replica with its item vectors (from this silo's snapshot where it has one) and the
/// statistics snapshot. Without it the first request of a tenant after a restart started those loads and the
/// baseline answered until they were done (measured on Beauty with a 2M-record log: the model answered ~1.8 s after
/// the first request). It runs beside the silo's start and never delays readiness; a tenant it has not reached yet
/// loads on its first request, as before. At most <see cref="RecommenderOptions.WarmUpTenants"/> tenants.
/// </summary>
public sealed partial class ServingWarmUp(
    ModelRegistry models,
    CatalogueReplicas catalogue,
    StatisticsReplicas statistics,
    IOptions<RecommenderOptions> options,
    TimeProvider time,
    ILogger<ServingWarmUp> logger) : IHostedLifecycleService
{
    /// <summary>How long one tenant's item vectors may take (a build encodes the whole catalogue) before the warm-up moves on.</summary>
    private static readonly TimeSpan IndexWait = TimeSpan.FromMinutes(5);

    private readonly CancellationTokenSource _stopping = new();
    private Task _run = Task.CompletedTask;

    /// <summary>Finishes when every tenant it took on is loaded (or failed): tests wait for it.</summary>
    public Task Completion => _run;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Value.WarmUpTenants > 0)
        {
            _run = Task.Run(() => WarmAsync(_stopping.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    private async Task WarmAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> tenants;
        try
        {
            tenants = models.TenantsServingModels(options.Value.WarmUpTenants);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogFailed(logger, e, "(models folder)");
            return;
        }

        foreach (var tenant in tenants)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var started = time.GetTimestamp();
            try
            {
                // One after another: on a machine of few cores the start is CPU-bound, and loads side by side delayed
                // readiness by more than they saved (measured on two cores: ready ~1.8 s later). The model first.
                var model = models.Active(tenant);
                var modelLoaded = time.GetTimestamp();
                var replica = await catalogue.LoadedAsync(tenant).WaitAsync(cancellationToken);
                var vectors = model is null ? null : await catalogue.IndexAsync(replica, model, IndexWait).WaitAsync(cancellationToken);
                var catalogueLoaded = time.GetTimestamp();
                await statistics.GetAsync(tenant).AsTask().WaitAsync(cancellationToken);
                LogWarmed(
                    logger, tenant, model?.Version ?? "(baseline)", vectors?.Count ?? 0, time.GetElapsedTime(started).TotalSeconds,
                    time.GetElapsedTime(started, modelLoaded).TotalSeconds, time.GetElapsedTime(modelLoaded, catalogueLoaded).TotalSeconds,
                    time.GetElapsedTime(catalogueLoaded).TotalSeconds);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A tenant that cannot be loaded now is loaded by its first request (which reports the error).
                LogFailed(logger, e, tenant);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _run.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _stopping.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: serving state loaded at start (model {Version}, {Vectors} item vectors) in {Seconds:F2} s: model {ModelSeconds:F2} s, catalogue and item vectors {CatalogueSeconds:F2} s, statistics {StatisticsSeconds:F2} s")]
    private static partial void LogWarmed(ILogger logger, string tenant, string version, int vectors, double seconds, double modelSeconds, double catalogueSeconds, double statisticsSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: loading serving state at start failed; its first request loads it")]
    private static partial void LogFailed(ILogger logger, Exception exception, string tenant);
}
