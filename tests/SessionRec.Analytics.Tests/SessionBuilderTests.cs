namespace SessionRec.Analytics.Tests;

using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;

public class SessionBuilderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private static long _sequence;

    private static LogEvent Impression(string user, string request, int minute, string model, params string[] shown) =>
        new(++_sequence, user, null, "impression", null, null, request, null, T0.AddMinutes(minute), "recommendations", shown, model);

    private static LogEvent Act(string user, string type, string item, int minute, string? request = null, int? position = null, string? session = null) =>
        new(++_sequence, user, session, type, item, null, request, position, T0.AddMinutes(minute));

    [Fact]
    public void FeedbackIsAttributedByRequestIdOrElseToTheLatestListThatShowedTheItem()
    {
        var sessions = SessionBuilder.Build(
        [
            Impression("u", "r1", 0, "v1", "a", "b", "c"),
            Act("u", "click", "b", 1, "r1", 2),
            Impression("u", "r2", 2, "v1", "d", "e", "b"),
            Act("u", "purchase", "e", 3),
            Act("u", "view", "z", 4),
        ]);

        var session = Assert.Single(sessions);
        Assert.Equal(2, session.Lists.Count);
        var click = Assert.Single(session.Lists[0].Feedback);
        Assert.Equal(("click", "b", 2), (click.Type, click.Target, click.Position));
        var purchase = Assert.Single(session.Lists[1].Feedback);
        Assert.Equal(("purchase", "e", 2), (purchase.Type, purchase.Target, purchase.Position));
        Assert.True(session.Lists[1].Converted);
        Assert.Equal(5, session.Records.Count);
    }

    [Fact]
    public void ThirtyMinutesOfInactivityOrANewSessionIdStartsANewSession()
    {
        var sessions = SessionBuilder.Build(
        [
            Act("u", "view", "a", 0, session: "s1"),
            Act("u", "view", "b", 10, session: "s1"),
            Act("u", "view", "c", 12, session: "s2"),
            Act("u", "view", "d", 43),
            Act("w", "view", "a", 1),
        ]);

        Assert.Equal(4, sessions.Count);
        var u = sessions.Where(s => s.UserId == "u").Select(s => s.Records.Select(r => r.ItemId).ToArray()).ToList();
        Assert.Equal([["a", "b"], ["c"], ["d"]], u);
    }

    [Fact]
    public void AClickOnAnEarlierSessionsListStillCountsForThatList()
    {
        var sessions = SessionBuilder.Build([Impression("u", "r1", 0, "v1", "a", "b"), Act("u", "click", "a", 50, "r1", 1)]);
        Assert.Equal(2, sessions.Count);
        Assert.Single(sessions[0].Lists[0].Feedback);
    }

    [Fact]
    public void TheItemNamedWinsOverAPositionThatDisagrees()
    {
        var sessions = SessionBuilder.Build([Impression("u", "r1", 0, "v1", "a", "b"), Act("u", "click", "b", 1, "r1", 1)]);
        Assert.Equal(2, sessions[0].Lists[0].Feedback[0].Position);
    }

    [Fact]
    public void TheEvalSessionCarriesTheStrongestFeedbackPerResult()
    {
        var sessions = SessionBuilder.Build(
        [
            Impression("u", "r1", 0, "v1", "a", "b"),
            Act("u", "click", "b", 1, "r1", 2),
            Act("u", "add_to_cart", "b", 2, "r1", 2),
            new LogEvent(++_sequence, "u", null, "search", null, "lipstick", null, null, T0.AddMinutes(3)),
        ]);

        var eval = sessions[0].ToEvalSession();
        var only = Assert.Single(eval.Queries);
        Assert.Equal([0.0, 2.0], only.Results.Select(r => r.FeedbackGain));
        Assert.Equal("search", sessions[0].Lists[1].Surface);
    }

    [Fact]
    public void ReportsAggregatePerDayAndModelAndCompareTwoVersions()
    {
        var records = new List<LogEvent>();
        for (var i = 0; i < 40; i++)
        {
            var user = $"u{i}";
            var model = i % 2 == 0 ? "v1" : "v2";
            records.Add(Impression(user, $"r{i}", i, model, "a", "b", "c"));
            if (model == "v2" || i % 4 == 0)
            {
                // v2's users click the first result; a quarter of v1's click the third.
                records.Add(Act(user, "click", model == "v2" ? "a" : "c", i + 1, $"r{i}"));
            }
        }

        var sessions = SessionBuilder.Build(records);
        var report = SessionAnalytics.Summarize(sessions, new AnalyticsFilter(), new MetricOptions(), worst: 3, compare: ("v1", "v2"));

        Assert.Equal(40, report.Sessions);
        var v1 = report.ByModel.Single(m => m.ModelVersion == "v1");
        var v2 = report.ByModel.Single(m => m.ModelVersion == "v2");
        Assert.Equal(0.5, v1.Ctr, 9);
        Assert.Equal(1, v2.Ctr, 9);
        Assert.Equal(1, v2.Mrr, 9);
        Assert.Equal(0.5 / 3, v1.Mrr, 9);
        Assert.Equal(1, v2.Metric.Value, 9); // a clicked at rank 1 is the ideal session
        Assert.True(report.Comparison!.Difference.Low > 0);
        Assert.Equal(20, report.Comparison.SessionsA);
        Assert.All(report.Worst, w => Assert.Equal(0, w.Metric));
        Assert.Equal(2, report.ByDay.Count);

        var onlyV2 = SessionAnalytics.Summarize(sessions, new AnalyticsFilter(Model: "v2"), new MetricOptions());
        Assert.Equal(20, onlyV2.Sessions);
        var none = SessionAnalytics.Summarize(sessions, new AnalyticsFilter(Surface: "suggestions"), new MetricOptions());
        Assert.Equal(0, none.Sessions);
    }

    [Fact]
    public void EachServedListIsCreditedToTheModelAndSurfaceThatServedIt()
    {
        // One session: two recommendation lists from v1, then one from v2 (activated mid-session), and two
        // suggestion lists from the suggester. The old report credited the whole session to one model.
        var suggestions = (string request, int minute) => new LogEvent(
            ++_sequence, "mixed", null, "impression", null, null, request, null, T0.AddMinutes(minute), "suggestions", ["q1", "q2"], "suggest-1");
        var sessions = SessionBuilder.Build(
        [
            Impression("mixed", "r1", 0, "v1", "a", "b"),
            Act("mixed", "click", "a", 1, "r1", 1),
            Impression("mixed", "r2", 2, "v1", "c", "d"),
            suggestions("s1", 3),
            suggestions("s2", 4),
            Act("mixed", "click", "q2", 5, "s2", 2),
            Impression("mixed", "r3", 6, "v2", "e", "f"),
        ]);

        var report = SessionAnalytics.Summarize(sessions, new AnalyticsFilter(), new MetricOptions());

        Assert.Equal(1, report.Sessions);
        Assert.Equal(5, report.Requests);
        var rows = report.ByModel.Select(m => (m.Surface, m.ModelVersion, m.Sessions, m.Requests, m.Ctr)).ToList();
        Assert.Equal(
            [("recommendations", "v1", 1, 2, 0.5), ("recommendations", "v2", 1, 1, 0.0), ("suggestions", "suggest-1", 1, 2, 0.5)],
            rows);
        Assert.Equal(["recommendations", "recommendations", "suggestions"], report.ByDay.Select(d => d.Surface));

        // v2 served one unclicked list: its session metric is 0, whatever v1 and the suggester did.
        Assert.Equal(0, report.ByModel.Single(m => m.ModelVersion == "v2").Metric.Value);
        Assert.True(report.ByModel.Single(m => m.ModelVersion == "v1").Metric.Value > 0);

        var onlySuggestions = SessionAnalytics.Summarize(sessions, new AnalyticsFilter(Surface: "suggestions"), new MetricOptions());
        Assert.Equal("suggest-1", Assert.Single(onlySuggestions.ByModel).ModelVersion);
    }

    [Fact]
    public void AnUnknownMetricNameIsRefusedWithTheKnownOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => SessionAnalytics.ResolveMetric("nDCG@7", new MetricOptions()));
        Assert.Contains("NUM", error.Message, StringComparison.Ordinal);
    }
}
