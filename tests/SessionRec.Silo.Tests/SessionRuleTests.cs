namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Sessions;
using SessionRec.Analytics.Sessions;
using SessionRec.EventContract;
using SessionRec.Silo.Statistics;

/// <summary>
/// One rule splits sessions everywhere: the session grain (what the user's recommendations see), the statistics
/// builder's live sessions (what co-occurrence links) and session analytics (what analysts read) cut the same stream
/// of events at the same places — including the cases they used to disagree on.
/// </summary>
public sealed class SessionRuleTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddHours(-3);

    // Expected sessions: [1 2 2b] (no ids, then the id the service gave the session, as its impressions name it),
    // [3 4] (another id, then an event without one), [5] (the same id, but past the timeout), [6] (another id).
    private static readonly (string Id, string? Session, int Minute)[] Stream =
    [
        ("1", null, 0), ("2", null, 10), ("2b", SessionRule.IdFor("1"), 11), ("3", "A", 12), ("4", null, 13),
        ("5", "A", 13 + 31), ("6", "B", 13 + 32),
    ];

    private static readonly string[][] Expected = [["1", "2", "2b"], ["3", "4"], ["5"], ["6"]];

    private static UserEvent Event((string Id, string? Session, int Minute) e) =>
        new(e.Id, "u", e.Session, EventType.View, "item" + e.Id, null, null, null, T0.AddMinutes(e.Minute), T0.AddMinutes(e.Minute));

    [Fact(Timeout = 30_000)]
    public async Task The_session_grain_the_statistics_builder_and_analytics_split_alike()
    {
        var grain = fixture.Cluster.GrainFactory.GetGrain<IUserSessionGrain>(TenantKey.For("t" + Guid.NewGuid().ToString("N")[..10], "u"));
        await grain.RecordAsync([.. Stream.Select(Event)], []);
        var view = await grain.GetAsync();
        var byGrain = view.Recent.Reverse().Append(view.Current!).Select(s => s.Events.Select(e => e.EventId).ToArray()).ToArray();
        Assert.Equal(Expected, byGrain);

        var analytics = SessionBuilder.Build(Stream.Select((e, i) => new LogEvent(i + 1, "u", e.Session, "view", "item" + e.Id, null, null, null, T0.AddMinutes(e.Minute), EventId: e.Id)));
        Assert.Equal(Expected, analytics.Select(s => s.Records.Select(r => r.ItemId![4..]).ToArray()).ToArray());

        var live = new LiveSessions(SessionRule.DefaultInactivity, memory: 5, maxTracked: 10);
        var byBuilder = new List<List<string>>();
        LiveSessions.Session? last = null;
        foreach (var e in Stream)
        {
            var session = live.For("u", e.Session, e.Id, T0.AddMinutes(e.Minute));
            if (!ReferenceEquals(session, last))
            {
                byBuilder.Add([]);
                last = session;
            }

            byBuilder[^1].Add(e.Id);
            live.Add(session, "item" + e.Id, T0.AddMinutes(e.Minute));
        }

        Assert.Equal(Expected, byBuilder.Select(s => s.ToArray()).ToArray());
    }
}
