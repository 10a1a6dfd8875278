namespace SessionRec.Analytics.Tests;

using SessionRec.Analytics.Aggregates;
using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;

/// <summary>
/// The live analytics (sessions assembled in log order, closed by the log's clock, added to per-day aggregates) must
/// report what rebuilding every session from the whole log reports: same sessions, requests, per-day and per-model
/// rows, worst sessions and A/B difference — whatever the metric, the filter, or where the log was cut into reads.
/// </summary>
public class SessionAggregatesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);
    private static readonly MetricOptions Options = new();
    private static readonly IReadOnlyList<NamedMetric> Metrics = MetricCatalogue.All(Options);
    private static readonly string[] MetricNames = [.. Metrics.Select(m => m.Name)];

    /// <summary>
    /// Users on five days, in time order across users: views, impressions from two models on two surfaces, clicks
    /// naming the request (or not), purchases, gaps that end sessions, and client session ids.
    /// </summary>
    private static List<LogEvent> SyntheticLog(int seed, int users = 120)
    {
        var random = new Random(seed);
        var events = new List<(DateTimeOffset At, Func<long, LogEvent> Make)>();
        for (var u = 0; u < users; u++)
        {
            var user = $"u{u}";
            var at = T0.AddMinutes(random.Next(5 * 24 * 60));
            var sessions = 1 + random.Next(4);
            for (var s = 0; s < sessions; s++)
            {
                var sessionId = random.Next(3) == 0 ? $"{user}-s{s}" : null;
                var requests = new List<(string Request, string[] Shown)>();
                for (var step = 0; step < 2 + random.Next(8); step++)
                {
                    at = at.AddSeconds(20 + random.Next(600));
                    var when = at;
                    var n = events.Count;
                    switch (random.Next(5))
                    {
                        case 0:
                            var item = $"i{random.Next(40)}";
                            events.Add((when, seq => new LogEvent(seq, user, sessionId, "view", item, null, null, null, when, EventId: $"e{n}")));
                            break;
                        case 1 or 2:
                            var request = $"r{n}";
                            var shown = Enumerable.Range(0, 5).Select(_ => $"i{random.Next(40)}").Distinct().ToArray();
                            var model = random.Next(2) == 0 ? "a" : "b";
                            var surface = random.Next(4) == 0 ? "suggestions" : "recommendations";
                            requests.Add((request, shown));
                            events.Add((when, seq => new LogEvent(seq, user, sessionId, "impression", null, null, request, null, when, surface, shown, model, $"imp-{request}")));
                            break;
                        default:
                            if (requests.Count == 0)
                            {
                                break;
                            }

                            var (named, list) = requests[random.Next(requests.Count)];
                            var index = random.Next(list.Length);
                            var type = random.Next(6) switch { 0 => "purchase", 1 => "add_to_cart", _ => "click" };
                            var withRequest = random.Next(4) != 0;
                            events.Add((when, seq => new LogEvent(seq, user, sessionId, type, list[index], null, withRequest ? named : null, index + 1, when, EventId: $"e{n}")));
                            break;
                    }
                }

                at = at.AddMinutes(31 + random.Next(600));
            }
        }

        return [.. events.OrderBy(e => e.At).Select((e, i) => e.Make(i + 1))];
    }

    private static (SessionAggregates Aggregates, OpenSessions Open) Follow(IEnumerable<LogEvent> log, int readBatch)
    {
        var aggregates = new SessionAggregates(MetricNames);
        var open = new OpenSessions(Timeout, Timeout);
        var read = 0;
        foreach (var record in log)
        {
            open.Add(record);
            if (++read % readBatch == 0)
            {
                foreach (var closed in open.TakeClosed())
                {
                    aggregates.Add(SessionDigest.Of(closed, Metrics));
                }
            }
        }

        foreach (var closed in open.TakeClosed())
        {
            aggregates.Add(SessionDigest.Of(closed, Metrics));
        }

        return (aggregates, open);
    }

    private static void AssertSameReport(AnalyticsReport expected, AggregateReport actual, int worst)
    {
        Assert.Equal(expected.Sessions, actual.Sessions);
        Assert.Equal(expected.Requests, actual.Requests);
        Assert.Equal(
            expected.ByDay.Select(d => (d.Day, d.Surface, d.ModelVersion, d.Sessions, d.Requests)),
            actual.ByDay.Select(d => (d.Day, d.Surface, d.ModelVersion, d.Sessions, d.Requests)));
        foreach (var (e, a) in expected.ByDay.Zip(actual.ByDay))
        {
            Assert.Equal(e.Metric, a.Metric, 9);
            Assert.Equal(e.Ctr, a.Ctr, 9);
            Assert.Equal(e.HitRate10, a.HitRate10, 9);
            Assert.Equal(e.Mrr, a.Mrr, 9);
            Assert.Equal(e.Conversion, a.Conversion, 9);
        }

        Assert.Equal(
            expected.ByModel.Select(m => (m.Surface, m.ModelVersion, m.Sessions, m.Requests)),
            actual.ByModel.Select(m => (m.Surface, m.ModelVersion, m.Sessions, m.Requests)));
        foreach (var (e, a) in expected.ByModel.Zip(actual.ByModel))
        {
            Assert.Equal(e.Metric.Value, a.Metric.Value, 9);
        }

        Assert.Equal(
            expected.Worst.Take(worst).Select(w => (w.Session.Id, w.Surface, w.ModelVersion, Math.Round(w.Metric, 9))),
            actual.Worst.Select(w => (w.SessionId, w.Surface, w.ModelVersion, Math.Round(w.Metric, 9))));
        if (expected.Comparison is { } comparison)
        {
            Assert.Equal(comparison.Difference.Value, actual.Comparison!.Difference.Value, 9);
            Assert.Equal(comparison.SessionsA, actual.Comparison.SessionsA);
            Assert.Equal(comparison.SessionsB, actual.Comparison.SessionsB);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 37)]
    [InlineData(3, 5_000)]
    public void TheLiveAggregatesReportWhatRebuildingTheWholeLogReports(int seed, int readBatch)
    {
        var log = SyntheticLog(seed);
        var (aggregates, open) = Follow(log, readBatch);
        Assert.True(aggregates.CellCount > 10, "most sessions were closed and added");
        var sessions = SessionBuilder.Build(log, Timeout);
        Assert.True(sessions.Count > 200, $"{sessions.Count} sessions");
        var digests = open.Digests(Metrics);

        var day = new DateTimeOffset(2026, 11, 3, 0, 0, 0, TimeSpan.Zero);
        foreach (var filter in new[]
        {
            new AnalyticsFilter(),
            new AnalyticsFilter(Metric: "sRBP"),
            new AnalyticsFilter(Surface: "suggestions", Metric: "sDCG"),
            new AnalyticsFilter(Model: "b"),
            new AnalyticsFilter(From: day, To: day.AddDays(2)),
        })
        {
            var expected = SessionAnalytics.Summarize(sessions, filter, Options, worst: 100, compare: ("a", "b"));
            var actual = aggregates.Report(new AggregateQuery(filter.From, filter.To, filter.Surface, filter.Model, filter.Metric, 25, ("a", "b")), digests);
            AssertSameReport(expected, actual, 25);
        }

        Assert.Equal(log.Count, aggregates.Report(new AggregateQuery(null, null, null, null, MetricCatalogue.Num, 0), digests).Records);
    }

    [Fact]
    public void SubtractingAUsersSessionsLeavesWhatTheLogWithoutThemReports()
    {
        var log = SyntheticLog(4);
        var aggregates = new SessionAggregates(MetricNames);
        var erased = new[] { "u3", "u17", "u40" };
        var all = SessionBuilder.Build(log, Timeout);
        foreach (var session in all)
        {
            aggregates.Add(SessionDigest.Of(session, Metrics));
        }

        Assert.True(aggregates.Names("u3") || aggregates.Names("u17") || aggregates.Names("u40"));
        foreach (var session in all.Where(s => erased.Contains(s.UserId)))
        {
            aggregates.Subtract(SessionDigest.FromBytes(SessionDigest.Of(session, Metrics).ToBytes()));
        }

        Assert.All(erased, user => Assert.False(aggregates.Names(user)));
        var rest = SessionBuilder.Build(log.Where(r => !erased.Contains(r.UserId)), Timeout);
        var expected = SessionAnalytics.Summarize(rest, new AnalyticsFilter(), Options, worst: 100, compare: ("a", "b"));
        var actual = aggregates.Report(new AggregateQuery(null, null, null, null, MetricCatalogue.Num, 100, ("a", "b")), []);
        Assert.Equal(expected.Sessions, actual.Sessions);
        Assert.Equal(expected.Requests, actual.Requests);
        Assert.Equal(rest.Sum(s => s.Records.Count), actual.Records);
        Assert.Equal(expected.ByModel.Select(m => (m.ModelVersion, m.Sessions)), actual.ByModel.Select(m => (m.ModelVersion, m.Sessions)));
        foreach (var (e, a) in expected.ByModel.Zip(actual.ByModel))
        {
            Assert.Equal(e.Metric.Value, a.Metric.Value, 9);
        }

        // The worst list lost the erased users' entries; what is left is still the worst among the rest.
        Assert.Equal(expected.Worst.Take(20).Select(w => w.Session.Id), actual.Worst.Take(20).Select(w => w.SessionId));
    }

    [Fact]
    public void AggregatesAndOpenSessionsReadBackReportTheSame()
    {
        var log = SyntheticLog(5);
        var (aggregates, open) = Follow(log.Take(log.Count - 40), 100);
        Assert.True(open.Sessions > 0, "some sessions are still open");

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            aggregates.WriteTo(writer);
            open.WriteTo(writer);
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        var aggregatesBack = SessionAggregates.ReadFrom(reader, MetricNames)!;
        var openBack = new OpenSessions(Timeout, Timeout);
        openBack.ReadFrom(reader);

        Assert.Equal(open.Clock, openBack.Clock);
        foreach (var record in log.Skip(log.Count - 40))
        {
            open.Add(record);
            openBack.Add(record);
        }

        var query = new AggregateQuery(null, null, null, null, "nsDCG", 50, ("a", "b"));
        var expected = aggregates.Report(query, open.Digests(Metrics));
        var actual = aggregatesBack.Report(query, openBack.Digests(Metrics));
        Assert.Equal(expected.Sessions, actual.Sessions);
        Assert.Equal(expected.Records, actual.Records);
        Assert.Equal(expected.ByDay.Select(d => (d.Day, d.Sessions, d.Requests, d.Metric)), actual.ByDay.Select(d => (d.Day, d.Sessions, d.Requests, d.Metric)));
        Assert.Equal(expected.Worst, actual.Worst);
        Assert.Equal(expected.Comparison, actual.Comparison);

        // Aggregates kept for another list of metrics are not misread: the reader says to rebuild them.
        stream.Position = 0;
        Assert.Null(SessionAggregates.ReadFrom(new BinaryReader(stream), [.. MetricNames.Skip(1)]));
    }

    [Fact]
    public void ASessionClosesOnlyOnceTheLogsClockIsPastItsTimeoutAndGrace()
    {
        var open = new OpenSessions(Timeout, TimeSpan.FromMinutes(10));
        open.Add(new LogEvent(1, "u", null, "view", "i1", null, null, null, T0, EventId: "e1"));
        open.Add(new LogEvent(2, "other", null, "view", "i1", null, null, null, T0.AddMinutes(39), EventId: "e2"));
        Assert.Empty(open.TakeClosed());
        Assert.Equal(2, open.Users);

        open.Add(new LogEvent(3, "other", null, "view", "i2", null, null, null, T0.AddMinutes(41), EventId: "e3"));
        var closed = Assert.Single(open.TakeClosed());
        Assert.Equal("u", closed.UserId);
        Assert.False(open.Holds("u"));
        Assert.True(open.Holds("other"));
    }

    [Fact]
    public void AClickLoggedBeforeTheImpressionItNamesIsCreditedToItWhenItComes()
    {
        // The service writes impressions behind its answers: in log order a quick click can precede its list.
        var open = new OpenSessions(Timeout, Timeout);
        open.Add(new LogEvent(1, "u", null, "view", "i1", null, null, null, T0, EventId: "e1"));
        open.Add(new LogEvent(2, "u", null, "click", "i3", null, "r1", 2, T0.AddSeconds(3), EventId: "e2"));
        open.Add(new LogEvent(3, "u", null, "impression", null, null, "r1", null, T0.AddSeconds(1), "recommendations", ["i2", "i3"], "v1", "imp-r1"));

        var digest = Assert.Single(open.Digests(Metrics));
        var slice = Assert.Single(digest.Slices);
        Assert.Equal(1, slice.ClickedRequests);
        Assert.Equal(0.5, slice.MrrSum);
    }

    [Fact]
    public void WholeUtcDaysAreWhatATimeRangeSelects()
    {
        var query = new AggregateQuery(T0.AddHours(5), T0.AddDays(2), null, null, MetricCatalogue.Num, 10);
        Assert.Equal(SessionDigest.DayOf(T0), query.FirstDay);
        Assert.Equal(SessionDigest.DayOf(T0) + 1, query.LastDay);
        Assert.True(query.Covers(SessionDigest.DayOf(T0), "recommendations", "a"));
        Assert.False(query.Covers(SessionDigest.DayOf(T0) + 2, "recommendations", "a"));
    }
}
