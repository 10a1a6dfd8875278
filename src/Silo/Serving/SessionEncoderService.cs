namespace SessionRec.Silo.Serving;

using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Models.Serving;

/// <summary>
/// Runs the session encoder for grains: requests queue here and a dedicated loop encodes whatever has queued
/// (up to <see cref="ModelOptions.MaxBatch"/>, same model) in one padded ONNX Runtime call. Grain turns only
/// await the result; no grain thread ever runs the model, and under load one call serves many requests.
/// </summary>
public sealed partial class SessionEncoderService(IOptions<ModelOptions> options, ILogger<SessionEncoderService> logger) : BackgroundService
{
    private readonly Channel<Request> _queue = Channel.CreateBounded<Request>(new BoundedChannelOptions(10_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>The session vector [Dim] for a session's item vectors [length, Dim].</summary>
    public async Task<float[]> EncodeAsync(OnnxRecommenderModel model, float[] sessionItems, int length, CancellationToken cancellationToken = default) =>
        (await EncodeWithUserAsync(model, sessionItems, length, cancellationToken)).Session;

    /// <summary>
    /// The session vector as scored and the raw user vector (multi-round retrieval's round 1: the round encoder of
    /// the next round reads the raw one; they are the same for dot scoring).
    /// </summary>
    public async Task<EncodedSession> EncodeWithUserAsync(OnnxRecommenderModel model, float[] sessionItems, int length, CancellationToken cancellationToken = default)
    {
        var request = new Request(model, sessionItems, length, new TaskCompletionSource<EncodedSession>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(request, cancellationToken);
        return await request.Result.Task.WaitAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Request>(options.Value.MaxBatch);
        Request? carried = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                batch.Clear();
                var first = carried ?? await _queue.Reader.ReadAsync(stoppingToken);
                carried = null;
                batch.Add(first);
                while (batch.Count < options.Value.MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    if (!ReferenceEquals(next.Model, first.Model))
                    {
                        // A model switch mid-queue: the next batch starts with it.
                        carried = next;
                        break;
                    }

                    batch.Add(next);
                }

                Encode(first.Model, batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Encode(OnnxRecommenderModel model, List<Request> batch)
    {
        try
        {
            var dim = model.Dim;
            var length = batch.Max(r => r.Length);
            var input = new float[batch.Count * length * dim];
            var last = new long[batch.Count];
            for (var b = 0; b < batch.Count; b++)
            {
                batch[b].Items.AsSpan(0, batch[b].Length * dim).CopyTo(input.AsSpan(b * length * dim));
                last[b] = batch[b].Length - 1;
            }

            var (sessions, users) = model.MultiRound is null
                ? (model.EncodeSessions(input, batch.Count, length, last), null)
                : model.EncodeSessionsWithUser(input, batch.Count, length, last);
            for (var b = 0; b < batch.Count; b++)
            {
                var session = sessions.AsSpan(b * dim, dim).ToArray();
                batch[b].Result.TrySetResult(new EncodedSession(session, users is null ? session : users.AsSpan(b * dim, dim).ToArray()));
            }
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException or ArgumentException)
        {
            LogEncodeFailed(logger, e, model.Version);
            foreach (var request in batch)
            {
                request.Result.TrySetException(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Session encoder of model {Version} failed")]
    private static partial void LogEncodeFailed(ILogger logger, Exception exception, string version);

    private sealed record Request(OnnxRecommenderModel Model, float[] Items, int Length, TaskCompletionSource<EncodedSession> Result);
}

/// <summary>A session's vector as scored, and its raw user vector (equal for dot scoring).</summary>
public sealed record EncodedSession(float[] Session, float[] User);
