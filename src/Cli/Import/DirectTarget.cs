namespace SessionRec.Cli.Import;

using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.EventContract;
using SessionRec.Models.Data;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The embedded default's data folder, while the service is stopped: items go to the catalogue store and
/// events to the click log, exactly as the service writes them. Nothing else is needed because the click log is
/// the source of truth: session grains replay a user's records when they activate, and the statistics builder,
/// woken by the first recommendation, reads the log and publishes its first snapshot.
/// </summary>
public sealed class DirectTarget : IImportTarget, IDisposable
{
    private readonly EmbeddedGarnet _garnet;
    private readonly ConnectionMultiplexer _redis;
    private readonly RedisCatalogueStore _catalogue;
    private readonly RedisClickLog _log;
    private readonly string _tenant;

    public DirectTarget(string dataPath, string tenant)
    {
        _tenant = tenant;
        _garnet = EmbeddedGarnet.Start(dataPath);
        _redis = StoreConnections.Connect(_garnet.ConnectionString);
        var barrier = new GarnetCommitBarrier(_garnet);
        _catalogue = new RedisCatalogueStore(_redis, barrier);
        _log = new RedisClickLog(_redis, barrier);
    }

    public async Task<int> UpsertItemsAsync(IReadOnlyList<ImportItem> items, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        await _catalogue.SaveAsync(_tenant, items.Select(i => new CatalogueItem(i.Id, i.Title, i.Brand, i.Categories, i.Attributes, i.Price, true, now)).ToList());
        return items.Count;
    }

    public async Task<BatchResult> AddEventsAsync(IReadOnlyList<Timeline.TimedEvent> events, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var valid = new List<UserEvent>(events.Count);
        var rejections = new List<string>();
        foreach (var e in events)
        {
            // The API's rules with its default window: the direct path writes nothing a client could not have posted.
            var fields = new EventFields(e.EventId, e.UserId, e.SessionId, e.Type, e.ItemId, null, null, null, e.Timestamp);
            if (EventRules.Problem(fields, now, EventWindow.Default) is { } problem)
            {
                rejections.Add($"{e.EventId}: {problem}");
            }
            else if (EventTypes.TryParse(e.Type, out var type))
            {
                valid.Add(new UserEvent(e.EventId, e.UserId, e.SessionId, type, e.ItemId, null, null, null, EventRules.Timestamp(fields, now), now));
            }
        }

        var results = await _log.AppendAsync(_tenant, valid, cancellationToken);
        var accepted = results.Count(r => r.Outcome == AppendOutcome.Appended);
        return new BatchResult(accepted, valid.Count - accepted, rejections.Count, rejections);
    }

    public void Dispose()
    {
        _redis.Dispose();
        _garnet.Dispose();
    }
}
