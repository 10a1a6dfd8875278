namespace SessionRec.Api.Tests;

using System.Net;
using SessionRec.Api.Contracts;

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
                break;
            }

            next = page.NextSequence;
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
    public async Task BadClickLogQueriesGetAProblem(string query, string title)
    {
        var response = await api.A.GetAsync($"/v1/clicklog?{query}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(title, (await response.ReadProblem()).GetProperty("title").GetString());
    }
}
