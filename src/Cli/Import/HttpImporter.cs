namespace SessionRec.Cli.Import;

using Spectre.Console;

/// <summary>Loads a data set into a running service through its public API, in batches, with progress.</summary>
public sealed class HttpImporter(ServiceClient client, int batchSize = 1_000, int parallelism = 4)
{
    public sealed record Totals(int Items, int Accepted, int Duplicates, int Rejected, IReadOnlyList<string> SampleRejections);

    private sealed record EventsResult(int Accepted, int Duplicates, int Rejected, List<EventVerdict> Results);

    private sealed record EventVerdict(string? EventId, string Status, string? Reason);

    private sealed record ItemsResult(int Upserted);

    public async Task<Totals> ImportAsync(Dataset dataset, IReadOnlyList<Timeline.TimedEvent> events, CancellationToken cancellationToken)
    {
        int items = 0, accepted = 0, duplicates = 0, rejected = 0;
        var samples = new List<string>();
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var itemTask = progress.AddTask($"items of {dataset.Name}", maxValue: dataset.Items.Count);
                await ForEachBatchAsync(dataset.Items, async batch =>
                {
                    var body = new
                    {
                        items = batch.Select(i => new
                        {
                            id = i.Id,
                            title = i.Title,
                            brand = i.Brand,
                            categories = i.Categories,
                            attributes = i.Attributes,
                            price = i.Price,
                            available = true,
                        }),
                    };
                    var result = await client.SendAsync<ItemsResult>(HttpMethod.Put, "/v1/items", body, cancellationToken);
                    Interlocked.Add(ref items, result.Upserted);
                    itemTask.Increment(batch.Count);
                });

                var eventTask = progress.AddTask($"events of {dataset.Name}", maxValue: events.Count);
                await ForEachBatchAsync(events, async batch =>
                {
                    var body = new
                    {
                        events = batch.Select(e => new
                        {
                            event_id = e.EventId,
                            user_id = e.UserId,
                            session_id = e.SessionId,
                            type = e.Type,
                            item_id = e.ItemId,
                            timestamp = e.Timestamp,
                        }),
                    };
                    var result = await client.SendAsync<EventsResult>(HttpMethod.Post, "/v1/events", body, cancellationToken);
                    Interlocked.Add(ref accepted, result.Accepted);
                    Interlocked.Add(ref duplicates, result.Duplicates);
                    Interlocked.Add(ref rejected, result.Rejected);
                    lock (samples)
                    {
                        foreach (var r in result.Results.Where(r => r.Status == "rejected").Take(5 - Math.Min(5, samples.Count)))
                        {
                            samples.Add($"{r.EventId}: {r.Reason}");
                        }
                    }

                    eventTask.Increment(batch.Count);
                });
            });

        return new Totals(items, accepted, duplicates, rejected, samples);
    }

    // Batches go out `parallelism` at a time; each user's events stay in order because a data set's events are
    // laid out per session and the session grain orders events by timestamp anyway.
    private async Task ForEachBatchAsync<T>(IReadOnlyList<T> all, Func<List<T>, Task> send)
    {
        var batches = all.Chunk(batchSize).Select(c => c.ToList());
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (batch, _) => await send(batch));
    }
}
