namespace SessionRec.Cli.Import;

using SessionRec.Models.Data;

/// <summary>A running service, through its public API (validation, sessions and statistics as for live traffic).</summary>
public sealed class HttpTarget(ServiceClient client) : IImportTarget
{
    private sealed record EventsResult(int Accepted, int Duplicates, int Rejected, List<EventVerdict> Results);

    private sealed record EventVerdict(string? EventId, string Status, string? Reason);

    private sealed record ItemsResult(int Upserted);

    public async Task<int> UpsertItemsAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken)
    {
        var body = new
        {
            items = items.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, attributes = i.Attributes, price = i.Price, available = true }),
        };
        return (await client.SendAsync<ItemsResult>(HttpMethod.Put, "/v1/items", body, cancellationToken)).Upserted;
    }

    public async Task<BatchResult> AddEventsAsync(IReadOnlyList<Timeline.TimedEvent> events, CancellationToken cancellationToken)
    {
        var body = new
        {
            events = events.Select(e => new { event_id = e.EventId, user_id = e.UserId, session_id = e.SessionId, type = e.Type, item_id = e.ItemId, timestamp = e.Timestamp }),
        };
        var result = await client.SendAsync<EventsResult>(HttpMethod.Post, "/v1/events", body, cancellationToken);
        var rejections = result.Results.Where(r => r.Status == "rejected").Select(r => $"{r.EventId}: {r.Reason}").ToList();
        return new BatchResult(result.Accepted, result.Duplicates, result.Rejected, rejections);
    }
}
