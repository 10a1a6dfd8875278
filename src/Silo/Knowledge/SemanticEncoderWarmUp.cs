namespace SessionRec.Silo.Knowledge;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

/// <summary>
/// Loads the MiniLM encoder while the silo starts, when semantic linking is on. Loaded lazily instead, the first
/// suggestion request after a start paid for it and, on a busy machine, ran past the response timeout (a 503
/// right after readiness).
/// </summary>
public sealed class SemanticEncoderWarmUp(SemanticEncoder encoder, IOptions<KnowledgeServiceOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.SemanticLinking ? Task.Run(() => encoder.Encode(["warm up"], cancellationToken), cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
