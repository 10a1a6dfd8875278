namespace SessionRec.Silo.Knowledge;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

/// <summary>
/// Loads the MiniLM encoder while the silo starts, when semantic linking is on. Loaded lazily instead, the first
/// suggestion request after a start paid for it and, on a busy machine, ran past the response timeout (a 503
/// right after readiness). The load begins before any hosted service starts (the silo's included), or earlier where
/// the host began it (the embedded default starts it beside its store), and the start waits for it at this
/// service's turn, so it overlaps the start instead of following it (measured on a restart with a 2.8M-record log:
/// ~1.2 s of the time to ready was this load).
/// </summary>
public sealed class SemanticEncoderWarmUp(SemanticEncoder encoder, IOptions<KnowledgeServiceOptions> options) : IHostedLifecycleService
{
    private Task _load = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Value.SemanticLinking)
        {
            _load = encoder.StartLoading();
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => _load.WaitAsync(cancellationToken);

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
