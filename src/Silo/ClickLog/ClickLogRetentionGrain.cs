namespace SessionRec.Silo.ClickLog;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.ClickLog;

/// <summary>Runs <see cref="ClickLogRetention"/> for its tenant every <see cref="ClickLogOptions.RetentionInterval"/> while active.</summary>
public sealed partial class ClickLogRetentionGrain(
    ClickLogRetention retention, ClickLogArchive archive, IOptions<ClickLogOptions> options, ILogger<ClickLogRetentionGrain> logger) : Grain, IClickLogRetentionGrain
{
    private const int MaxPerPass = 500_000;

    private IGrainTimer? _continuation;

    private string Tenant => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Retention > TimeSpan.Zero)
        {
            var first = TimeSpan.FromSeconds(Math.Min(60, options.Value.RetentionInterval.TotalSeconds));
            this.RegisterGrainTimer(
                static (grain, _) => grain.RunAsync(),
                this,
                new GrainTimerCreationOptions(first, options.Value.RetentionInterval) { KeepAlive = true });
        }

        return Task.CompletedTask;
    }

    public Task WakeAsync() => Task.CompletedTask;

    public async Task<int> RunAsync()
    {
        var archived = await retention.RunAsync(Tenant, MaxPerPass);
        if (archived > 0)
        {
            LogArchived(logger, Tenant, archived, options.Value.Retention);
        }

        // A pass stops at its bound to keep its turn short: a log further behind is drained by passes back to back.
        if (archived >= MaxPerPass)
        {
            _continuation?.Dispose();
            _continuation = this.RegisterGrainTimer(
                static (grain, _) => grain.RunAsync(),
                this,
                new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }

        return archived;
    }

    public Task<int> ForgetUserAsync(string userId) => archive.EraseUserAsync(Tenant, userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: archived and dropped {Records} click-log records older than {Retention}")]
    private static partial void LogArchived(ILogger logger, string tenant, int records, TimeSpan retention);
}
