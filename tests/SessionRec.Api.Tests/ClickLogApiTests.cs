namespace SessionRec.Api.Tests;

using System.Net;
using SessionRec.Api.Contracts;
using SessionRec.TestSupport;

public sealed class ClickLogApiTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task TheClickLogIsReadInPagesAndFilteredByTime()
    {
        var ct = TestContext.Current.CancellationToken;
        var t0 = DateTimeOffset.UtcNow.AddHours(-2);
        var events = Enumerable.Range(0, 30).Select(i => Http.View($"page-{i}", "reader", $"i{i}", at: t0.AddMinutes(i))).ToArray();
        await api.A.PostJson("/v1/events", new { events });

        var all = new List<ClickLogRecordResponse>();
        long next = 1;
        while (true)
        {
            var page = await (await api.A.GetAsync($"/v1/clicklog?from_sequence={next}&limit=7", ct)).Read<ClickLogPageResponse>();
            all.AddRange(page.Records);
            if (next == page.NextSequence || page.NextSequence > page.LastSequence)
            {
                Assert.False(page.More);
                break;
            }

            Assert.Equal((page.NextSequence - 1).ToString(), page.NextCursor);
            next = page.NextSequence!.Value;
        }

        var mine = all.Where(r => r.EventId.StartsWith("page-", StringComparison.Ordinal)).ToList();
        Assert.Equal(30, mine.Count);
        Assert.True(mine.Zip(mine.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));

        var from = Uri.EscapeDataString(t0.AddMinutes(10).ToString("O"));
        var to = Uri.EscapeDataString(t0.AddMinutes(20).ToString("O"));
        var window = await (await api.A.GetAsync($"/v1/clicklog?limit=5000&from={from}&to={to}", ct)).Read<ClickLogPageResponse>();
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"page-{i}"), window.Records.Where(r => r.UserId == "reader").Select(r => r.EventId));
    }

    [Theory]
    [InlineData("limit=0", "Invalid limit")]
    [InlineData("limit=5001", "Invalid limit")]
    [InlineData("from_sequence=0", "Invalid from_sequence")]
    [InlineData("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "Invalid time range")]
    [InlineData("cursor=1.2", "Invalid cursor")]
    [InlineData("cursor=x", "Invalid cursor")]
    [InlineData("cursor=3&from_sequence=4", "Invalid cursor")]
    public async Task BadClickLogQueriesGetAProblem(string query, string title)
    {
        var response = await api.A.GetAsync($"/v1/clicklog?{query}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(title, (await response.ReadProblem()).GetProperty("title").GetString());
    }
}

/// <summary>
/// The whole service on a tenant log of four partitions (what a Redis Cluster gives a new tenant by default, here set
/// on one redis-server): events, sessions, erasure and the click log's cursor pages work across partitions.
/// </summary>
public sealed class PartitionedClickLogApiTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ApiFactory _factory = null!;
    private HttpClient _a = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _factory = new ApiFactory(_redis.ConnectionString, new Dictionary<string, string?> { ["ClickLog:Partitions"] = "4" });
        _a = _factory.ClientFor(ApiFactory.KeyA);
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        await _factory.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task EveryRecordIsReadOnceThroughCursorPagesAndAnErasedUserLeavesThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        var users = Enumerable.Range(0, 12).Select(u => $"reader-{u}").ToList();
        var sent = new List<(string Id, string User)>();
        for (var batch = 0; batch < 3; batch++)
        {
            var events = Enumerable.Range(0, 20).Select(i => (Id: $"p-{batch}-{i}", User: users[((batch * 20) + i) % users.Count])).ToList();
            sent.AddRange(events);
            var response = await _a.PostJson("/v1/events", new { events = events.Select((e, i) => Http.View(e.Id, e.User, $"i{i}", at: t0.AddSeconds(sent.Count + i))).ToArray() });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var all = await ReadAllAsync(ct);
        Assert.Equal(sent.Select(e => e.Id).Order(), all.Select(r => r.EventId).Order());
        foreach (var user in users)
        {
            // Each user's records in the order they were sent, in their one partition.
            var mine = all.Where(r => r.UserId == user).ToList();
            Assert.Equal(sent.Where(e => e.User == user).Select(e => e.Id), mine.Select(r => r.EventId));
            Assert.Single(mine.Select(r => r.Partition).Distinct());
        }

        Assert.True(all.Select(r => r.Partition).Distinct().Count() > 1, "twelve users spread over more than one partition");

        // A sequence number is no place in a partitioned log: from_sequence is refused, naming the cursor instead.
        var refused = await _a.GetAsync("/v1/clicklog?from_sequence=1", ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("cursor", (await refused.ReadProblem()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var session = await (await _a.GetAsync($"/v1/users/{users[3]}/session", ct)).Read<UserSessionResponse>();
        Assert.Equal(sent.Count(e => e.User == users[3]), session.Current!.Events.Count);

        Assert.Equal(HttpStatusCode.OK, (await _a.DeleteAsync($"/v1/users/{users[3]}", ct)).StatusCode);
        var left = await ReadAllAsync(ct);
        Assert.Equal(sent.Count(e => e.User != users[3]), left.Count);
        Assert.DoesNotContain(left, r => r.UserId == users[3]);
    }

    private async Task<List<ClickLogRecordResponse>> ReadAllAsync(CancellationToken ct)
    {
        var records = new List<ClickLogRecordResponse>();
        string? cursor = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await (await _a.GetAsync("/v1/clicklog?limit=7" + (cursor is null ? "" : $"&cursor={cursor}"), ct)).Read<ClickLogPageResponse>();
            Assert.InRange(page.Records.Count, 0, 7);
            Assert.Null(page.NextSequence);
            records.AddRange(page.Records);
            if (!page.More)
            {
                return records;
            }

            cursor = page.NextCursor;
        }

        throw new InvalidOperationException("The click log did not end within 100 pages.");
    }
}
