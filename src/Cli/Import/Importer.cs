namespace SessionRec.Cli.Import;

using SessionRec.Models.Data;
using Spectre.Console;

/// <summary>What a batch of events came to.</summary>
public sealed record BatchResult(int Accepted, int Duplicates, int Rejected, IReadOnlyList<string> Rejections);

/// <summary>Where an import writes: a running service's API, or the embedded default's data folder.</summary>
public interface IImportTarget
{
    Task<int> UpsertItemsAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken);

    Task<BatchResult> AddEventsAsync(IReadOnlyList<Timeline.TimedEvent> events, CancellationToken cancellationToken);
}

/// <summary>Loads a data set into a target in batches, some at a time, with progress bars.</summary>
public sealed class Importer(IImportTarget target, int batchSize = 1_000, int parallelism = 4)
{
    public sealed record Totals(int Items, int Accepted, int Duplicates, int Rejected, IReadOnlyList<string> SampleRejections);

    public async Task<Totals> ImportAsync(Dataset dataset, IReadOnlyList<Timeline.TimedEvent> events, CancellationToken cancellationToken)
    {
        int items = 0, accepted = 0, duplicates = 0, rejected = 0;
        var samples = new List<string>();
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var itemTask = progress.AddTask($"items of {dataset.Name}", maxValue: Math.Max(1, dataset.Items.Count));
                await ForEachBatchAsync(dataset.Items, async batch =>
                {
                    Interlocked.Add(ref items, await target.UpsertItemsAsync(batch, cancellationToken));
                    itemTask.Increment(batch.Count);
                });

                var eventTask = progress.AddTask($"events of {dataset.Name}", maxValue: Math.Max(1, events.Count));
                await ForEachBatchAsync(events, async batch =>
                {
                    var result = await target.AddEventsAsync(batch, cancellationToken);
                    Interlocked.Add(ref accepted, result.Accepted);
                    Interlocked.Add(ref duplicates, result.Duplicates);
                    Interlocked.Add(ref rejected, result.Rejected);
                    lock (samples)
                    {
                        samples.AddRange(result.Rejections.Take(5 - Math.Min(5, samples.Count)));
                    }

                    eventTask.Increment(batch.Count);
                });
            });

        return new Totals(items, accepted, duplicates, rejected, samples);
    }

    // Batches go out `parallelism` at a time; the order of a user's events does not matter because the session
    // grain orders events by timestamp.
    private async Task ForEachBatchAsync<T>(IReadOnlyList<T> all, Func<List<T>, Task> send)
    {
        var batches = all.Chunk(batchSize).Select(c => c.ToList());
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (batch, _) => await send(batch));
    }
}
