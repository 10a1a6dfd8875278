namespace SessionRec.Cli.Generate;

using SessionRec.Abstractions.Events;
using SessionRec.EventContract;

/// <summary>
/// A synthetic click log of served sessions, for measuring what reads the log at scale (session analytics): users
/// shop in sessions of a few views, recommendation and suggestion lists (10 results, from a baseline or a model —
/// half the users each, an A/B split), clicks that name the list and position, carts and purchases. Sessions start
/// evenly over the last <c>days</c> days and are produced an hour of start times at a time, each hour's records in
/// time order, as a live log would hold them. Deterministic for a seed.
/// </summary>
public sealed class SyntheticClickLog(int users, int items, int days, int seed = 7)
{
    public const string Baseline = "baseline-cooc-1";
    public const string Model = "m2trec-synthetic";

    /// <summary>The log's records, in batches of about an hour of session starts each, until <paramref name="records"/> are made.</summary>
    public IEnumerable<List<UserEvent>> Batches(long records, DateTimeOffset end)
    {
        var random = new Random(seed);
        var hours = days * 24;
        var start = end.AddHours(-hours);
        var perHour = (int)Math.Ceiling(records / 10.5 / hours); // ~10.5 records a session
        long made = 0;
        for (var hour = 0; made < records; hour++)
        {
            var at = start.AddHours(hour % hours);
            var batch = new List<(DateTimeOffset At, UserEvent Event)>();
            for (var s = 0; s < perHour; s++)
            {
                Session(random, at.AddSeconds(random.Next(3600)), batch);
            }

            var ordered = batch.OrderBy(e => e.At).Select(e => e.Event).ToList();
            if (made + ordered.Count > records)
            {
                ordered.RemoveRange((int)(records - made), ordered.Count - (int)(records - made));
            }

            made += ordered.Count;
            yield return ordered;
        }
    }

    private long _next;

    private void Session(Random random, DateTimeOffset at, List<(DateTimeOffset, UserEvent)> into)
    {
        var number = random.Next(users);
        var user = $"g{number}";
        var model = number % 2 == 0 ? Baseline : Model;
        string? sessionId = null;
        var steps = 2 + random.Next(6);
        for (var step = 0; step < steps; step++)
        {
            at = at.AddSeconds(15 + random.Next(240));
            var viewed = $"{random.Next(1, items + 1)}";
            Add(into, new UserEvent(Id(), user, sessionId, EventType.View, viewed, null, null, null, at, at));
            sessionId ??= SessionRule.IdFor(into[^1].Item2.EventId);
            if (random.Next(3) == 0)
            {
                continue;
            }

            var suggestions = random.Next(5) == 0;
            // The service's request id form (ServedIds), deterministic for the seed: 8 hex digits of it, 24 of a counter.
            var request = $"{(suggestions ? 's' : 'r')}-{(uint)seed:x8}{++_next:x24}";
            var shown = Enumerable.Range(0, 10).Select(_ => suggestions ? $"query {random.Next(500)}" : $"{random.Next(1, items + 1)}").Distinct().ToList();
            var surface = suggestions ? "suggestions" : "recommendations";
            var version = suggestions ? "suggest-1" : model;
            var servedAt = at.AddMilliseconds(40);
            Add(into, new UserEvent(ServedIds.Impression(request), user, sessionId, EventType.Impression, suggestions ? null : viewed, null, request, null, servedAt, servedAt, surface, shown, version));

            // The model's lists are clicked a little more often, and higher up.
            var clickChance = model == Model ? 0.45 : 0.35;
            if (random.NextDouble() >= clickChance)
            {
                continue;
            }

            var position = 1 + (int)Math.Min(9, Math.Floor(-Math.Log(1 - random.NextDouble()) * (model == Model ? 2 : 3)));
            var clickAt = servedAt.AddSeconds(2 + random.Next(20));
            var target = shown[Math.Min(position, shown.Count) - 1];
            Add(into, suggestions
                ? new UserEvent(Id(), user, sessionId, EventType.SuggestionClick, null, target, request, position, clickAt, clickAt)
                : new UserEvent(Id(), user, sessionId, EventType.Click, target, null, request, position, clickAt, clickAt));
            if (!suggestions && random.Next(6) == 0)
            {
                var buyAt = clickAt.AddSeconds(30 + random.Next(120));
                Add(into, new UserEvent(Id(), user, sessionId, random.Next(3) == 0 ? EventType.Purchase : EventType.AddToCart, target, null, request, position, buyAt, buyAt));
            }

            at = clickAt;
        }
    }

    private string Id() => $"gen-{seed}-{++_next}";

    private static void Add(List<(DateTimeOffset, UserEvent)> into, UserEvent e) => into.Add((e.Timestamp, e));
}
