namespace SessionRec.Cli.Tests;

using SessionRec.Cli.Import;
using SessionRec.Models.Data;

public sealed class TimelineTests
{
    private static readonly DateTimeOffset End = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static Dataset Data(params ImportInteraction[] interactions) => new("d", [], interactions);

    [Fact]
    public void WithoutTimesEachUsersSequenceIsOneSessionInOrderAMinuteApart()
    {
        var events = Timeline.Assign(Data(new("u", "a", "view", null, null), new("u", "b", "view", null, null), new("v", "c", "view", null, null)), End, TimeSpan.FromDays(14));

        var u = events.Where(e => e.UserId == "u").ToList();
        Assert.Equal(["a", "b"], u.Select(e => e.ItemId));
        Assert.Single(u.Select(e => e.SessionId).Distinct());
        Assert.Equal(TimeSpan.FromMinutes(1), u[1].Timestamp - u[0].Timestamp);
        Assert.All(events, e => Assert.InRange(e.Timestamp, End - TimeSpan.FromDays(14), End));
    }

    [Fact]
    public void TimestampsSplitSessionsAfterThirtyMinutesAndKeepGapsInside()
    {
        var events = Timeline.Assign(Data(
            new("u", "a", "view", 1_000, null),
            new("u", "b", "view", 1_120, null),
            new("u", "c", "view", 1_120 + 3_600, null)), End, TimeSpan.FromDays(14));

        Assert.Equal(2, events.Select(e => e.SessionId).Distinct().Count());
        Assert.Equal(events[0].SessionId, events[1].SessionId);
        Assert.Equal(TimeSpan.FromSeconds(120), events[1].Timestamp - events[0].Timestamp);
        Assert.True(events[2].Timestamp > events[1].Timestamp);
    }

    [Fact]
    public void EventIdsAreStableSoReImportsAreIdempotent()
    {
        var data = Data(new("u", "a", "view", 5, null), new("u", "b", "view", 1, null));

        var first = Timeline.Assign(data, End, TimeSpan.FromDays(14));
        var second = Timeline.Assign(data, End.AddDays(3), TimeSpan.FromDays(14));

        Assert.Equal(first.Select(e => e.EventId).Order(), second.Select(e => e.EventId).Order());
        Assert.Equal(["b", "a"], first.Select(e => e.ItemId)); // ordered by the data set's own time
    }
}
