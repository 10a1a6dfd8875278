namespace SessionRec.Api.Endpoints;

using System.Threading.Channels;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;

/// <summary>
/// Writes the impressions of served lists to the click log in batches, off the request path: a list is served
/// without waiting for its impression's durable write (measured on the embedded default: the synchronous append
/// was most of a recommendation's latency). Impressions are queued in memory (bounded; a full queue makes
/// requests wait) and written within milliseconds: under load, one write every 5 ms carries all that was queued. A
/// crash can lose the last unwritten impressions, never an acknowledged event. <see cref="FlushAsync"/> waits for everything queued before it (erasure uses it).
/// </summary>
public sealed partial class ImpressionLog(IClickLog clickLog, ILogger<ImpressionLog> logger) : BackgroundService
{
    private const int Capacity = 50_000;
    private const int MaxBatch = 1_000;
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(5);

    private readonly Channel<(string Tenant, UserEvent Impression)> _queue =
        Channel.CreateBounded<(string, UserEvent)>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Lock _gate = new();
    private readonly List<(long Upto, TaskCompletionSource Done)> _flushes = [];
    private long _enqueued;
    private long _written;

    public async ValueTask EnqueueAsync(string tenant, UserEvent impression, CancellationToken cancellationToken)
    {
        await _queue.Writer.WriteAsync((tenant, impression), cancellationToken);
        Interlocked.Increment(ref _enqueued);
    }

    /// <summary>Completes once every impression queued before this call is in the click log.</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var upto = Interlocked.Read(ref _enqueued);
            if (Interlocked.Read(ref _written) >= upto)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushes.Add((upto, done));
            return done.Task.WaitAsync(cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(string Tenant, UserEvent Impression)>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await DrainAsync(batch, CancellationToken.None);

                // Under load impressions arrive a few per millisecond: written as each arrives, every one or two
                // cost a script run of their own (with a durable commit then: measured ~1 in 7 of a suggestion
                // request's CPU). Waiting a moment after a write lets one write carry what came meanwhile; the first
                // impression after a quiet spell is still written at once.
                await Task.Delay(CoalesceWindow, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: write what is queued before the host stops.
            await DrainAsync(batch, CancellationToken.None);
        }
    }

    private async Task DrainAsync(List<(string Tenant, UserEvent Impression)> batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count == 0)
            {
                return;
            }

            foreach (var group in batch.GroupBy(b => b.Tenant))
            {
                var impressions = group.Select(g => g.Impression).ToList();
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await clickLog.AppendServedAsync(group.Key, impressions, cancellationToken);
                        break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException && attempt < 60)
                    {
                        LogRetry(logger, e, impressions.Count, attempt);
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * attempt)), cancellationToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Minutes of a store that does not answer: the served lists are dropped, the API keeps serving
                        // (an exception here would stop the host, and every request with it).
                        LogDropped(logger, e, impressions.Count, attempt);
                        break;
                    }
                }
            }

            Interlocked.Add(ref _written, batch.Count);
            CompleteFlushes();
        }
    }

    private void CompleteFlushes()
    {
        lock (_gate)
        {
            var written = Interlocked.Read(ref _written);
            _flushes.RemoveAll(f =>
            {
                if (f.Upto > written)
                {
                    return false;
                }

                f.Done.TrySetResult();
                return true;
            });
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} impressions failed {Attempts} times; they are dropped (their lists will not be credited in analytics)")]
    private static partial void LogDropped(ILogger logger, Exception exception, int count, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} impressions failed (attempt {Attempt}); retrying")]
    private static partial void LogRetry(ILogger logger, Exception exception, int count, int attempt);
}
