namespace SessionRec.Api.Tests;

using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using SessionRec.Api.Contracts;
using SessionRec.Silo.Embedded;
using SessionRec.TestSupport;

/// <summary>
/// The demo shop (/demo/, through clients/js with the embedded default's publishable key) driven in headless
/// Chromium as a shopper: type a prefix, pick a suggestion, open products, add to the basket — with the service
/// killed for a few seconds mid-session — order, leave the page. Then the click log, read with the secret key, must
/// hold every event the page tracked exactly once with the request_id and position the page was served, and the
/// analytics must attribute the suggestion click and the recommendation clicks.
/// </summary>
public sealed class StorefrontBrowserTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("sessionrec-storefront-").FullName;
    private readonly EmbeddedApiProcess _service;

    public StorefrontBrowserTests() => _service = new EmbeddedApiProcess(_data, EmbeddedGarnet.FreeLoopbackPort());

    public void Dispose()
    {
        _service.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact(Timeout = 420_000)]
    public async Task AShoppersEventsArriveExactlyOnceAndAttributedThoughTheServiceStopsMidSession()
    {
        HeadlessChromium.SkipWhenAbsent();
        var ct = TestContext.Current.CancellationToken;
        await _service.StartAsync();
        using var secret = _service.ClientFor();
        var publishable = _service.ReadKey("publishable-key.txt");
        await SeedAsync(secret, ct);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(30_000);
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        try
        {
            await ShopAsync(page, secret, publishable, errors, ct);
        }
        catch (Exception e) when (e is not Xunit.Sdk.SkipException)
        {
            // What the shopper saw, so that a failure in CI says more than which selector timed out.
            var seen = await page.EvaluateAsync<string>("document.body.innerText + '\\n' + JSON.stringify(window.shop?.errors ?? [])");
            throw new Xunit.Sdk.XunitException($"{e.Message}\npage: {seen}\npage errors: {string.Join("; ", errors)}", e);
        }
    }

    private async Task ShopAsync(IPage page, HttpClient secret, string publishable, List<string> errors, CancellationToken ct)
    {

        // The key travels in the fragment (never sent to the server) and leaves the address bar.
        await page.GotoAsync($"{_service.BaseAddress}demo/#key={publishable}");
        await page.WaitForSelectorAsync("[data-row='recommended'] .card");
        Assert.DoesNotContain(publishable, page.Url, StringComparison.Ordinal);
        var userId = await page.EvaluateAsync<string>("window.shop.client.userId");
        Assert.StartsWith("u-", userId, StringComparison.Ordinal);

        // The shopper types a prefix and sees suggestions for it (debounced: one answer for the whole prefix).
        await page.ClickAsync("#search");
        await page.Keyboard.TypeAsync("bra", new KeyboardTypeOptions { Delay = 40 });
        await page.WaitForFunctionAsync("window.shop.suggested.some(s => s.query === 'bra' && s.texts.length > 0)");
        await page.WaitForSelectorAsync("#suggestions:not([hidden]) li");
        var suggestion = page.Locator("#suggestions li").First;
        var picked = (await suggestion.GetAttributeAsync("data-text"))!;
        Assert.StartsWith("bra", picked, StringComparison.OrdinalIgnoreCase);
        await suggestion.ClickAsync();
        await page.WaitForSelectorAsync("[data-row='search-results'] .card");

        // A result, then a product page with both rows, labelled with source and reason.
        await page.Locator("[data-row='search-results'] .card").First.ClickAsync();
        await page.WaitForSelectorAsync("[data-row='also-viewed'] .card");
        await page.WaitForSelectorAsync("[data-row='recommended'] .card");
        Assert.NotEmpty(await page.Locator("[data-row='also-viewed'] .card .why").First.InnerTextAsync());
        await page.ClickAsync("#add-to-basket");

        var screenshot = Path.Combine(AppContext.BaseDirectory, "storefront.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        TestContext.Current.SendDiagnosticMessage($"storefront screenshot: {screenshot}");

        // Every list served so far is in the log before the service is killed (impressions are written behind the
        // answer; a list the log never got could not be credited, which is not what this test is about).
        await PollAsync(async () =>
        {
            var served = await ServedRequestIdsAsync(page);
            var logged = (await ReadLogAsync(secret, userId, ct)).Where(r => r.Type == "impression").Select(r => r.RequestId).ToHashSet();
            return served.All(logged.Contains);
        }, "the served lists to be logged", TimeSpan.FromSeconds(30), ct);

        // The service stops mid-session: the shopper goes on, and the page keeps what it tracks.
        _service.Kill();
        var outage = System.Diagnostics.Stopwatch.StartNew();
        await page.Locator("[data-row='also-viewed'] .card").First.ClickAsync();
        await page.WaitForSelectorAsync("[data-view='product'] #add-to-basket");
        await page.ClickAsync("#add-to-basket");
        await page.WaitForFunctionAsync("window.shop.errors.some(e => e.status === 0)");
        Assert.True(await page.EvaluateAsync<int>("window.shop.client.pending") > 0, "events tracked during the outage wait in the queue");
        await page.WaitForSelectorAsync("#status:not([hidden])");

        await _service.StartAsync();
        TestContext.Current.SendDiagnosticMessage($"service down for {outage.Elapsed.TotalSeconds:0.0} s");
        await page.WaitForFunctionAsync("window.shop.client.pending === 0", null, new PageWaitForFunctionOptions { Timeout = 90_000, PollingInterval = 200 });

        // The basket.
        await page.ClickAsync("#basket-link");
        await page.WaitForSelectorAsync("#place-order");
        Assert.Equal(2, await page.Locator(".basket li").CountAsync());

        // The publishable key in the page cannot read the click log.
        Assert.Equal(403, await page.EvaluateAsync<int>("key => fetch('/v1/clicklog', { headers: { authorization: 'Bearer ' + key } }).then(r => r.status)", publishable));

        var servedIds = await ServedRequestIdsAsync(page);
        var suggestedIds = JsonSerializer.Deserialize<string[]>(await page.EvaluateAsync<string>("JSON.stringify(window.shop.suggested.map(s => s.requestId))"))!;

        // The order, and the shopper leaves at once: the purchases are still queued (the client batches for 500 ms),
        // so only the page-exit flush can deliver them.
        var tracked = JsonSerializer.Deserialize<TrackedEvent[]>(
            await page.EvaluateAsync<string>("document.querySelector('#place-order').click(); JSON.stringify(window.shop.tracked)"), Http.Json)!;
        Assert.Equal(2, await page.EvaluateAsync<int>("window.shop.client.pending"));
        Assert.Equal(2, tracked.Count(e => e.Type == "purchase"));
        await page.GotoAsync("about:blank");
        Assert.Empty(errors);

        // Every tracked event is in the log exactly once, as the page tracked it; nothing else of the shopper is.
        IReadOnlyList<ClickLogRecordResponse> log = [];
        await PollAsync(async () =>
        {
            log = await ReadLogAsync(secret, userId, ct);
            return tracked.All(t => log.Any(r => r.EventId == t.EventId));
        }, "every tracked event to reach the click log", TimeSpan.FromSeconds(30), ct);
        var events = log.Where(r => r.Type != "impression").ToList();
        Assert.Equal(tracked.Select(t => t.EventId).Order(StringComparer.Ordinal), events.Select(r => r.EventId).Order(StringComparer.Ordinal));
        foreach (var t in tracked)
        {
            var r = events.Single(e => e.EventId == t.EventId);
            Assert.Equal((t.Type, t.ItemId, t.Query, t.RequestId, t.Position, t.SessionId), (r.Type, r.ItemId, r.Query, r.RequestId, r.Position, r.SessionId));
        }

        var clicks = tracked.Where(t => t.Type == "click").ToList();
        Assert.True(clicks.Count >= 2, "a search result and an also-viewed card were clicked");
        Assert.All(clicks, c => Assert.Contains(c.RequestId!, servedIds));
        Assert.All(clicks, c => Assert.True(c.Position >= 1));
        var suggestionClick = Assert.Single(tracked, t => t.Type == "suggestion_click");
        Assert.Equal(picked, suggestionClick.Query);
        Assert.Contains(suggestionClick.RequestId!, suggestedIds);

        // The analytics credit the suggestion click to the suggestions list and the clicks to the recommendations.
        var analytics = await (await secret.GetAsync("/v1/analytics/sessions", ct)).Read<AnalyticsSessionsResponse>();
        Assert.True(analytics.ByModel.Where(m => m.Surface == "suggestions").Sum(m => m.Ctr) > 0, "the suggestion click is attributed");
        Assert.True(analytics.ByModel.Where(m => m.Surface == "recommendations").Sum(m => m.Ctr) > 0, "the recommendation clicks are attributed");
        var feedback = new List<(string Surface, string RequestId, string Type, string Target, int Position)>();
        foreach (var start in log.Select(r => r.Sequence))
        {
            var timeline = await secret.GetAsync($"/v1/analytics/sessions/{userId}@{start}", ct);
            if (timeline.StatusCode == HttpStatusCode.OK)
            {
                var lists = (await timeline.Read<AnalyticsTimelineResponse>()).Lists;
                feedback.AddRange(lists.SelectMany(l => l.Feedback.Select(f => (l.Surface, l.RequestId, f.Type, f.Target, f.Position))));
            }
        }

        Assert.Contains(("suggestions", suggestionClick.RequestId!, "suggestion_click", picked, suggestionClick.Position!.Value), feedback);
        foreach (var click in clicks)
        {
            Assert.Contains(("recommendations", click.RequestId!, "click", click.ItemId!, click.Position!.Value), feedback);
        }
    }

    /// <summary>A catalogue and other shoppers' history, so that co-occurrence has something to say.</summary>
    private static async Task SeedAsync(HttpClient secret, CancellationToken ct)
    {
        var data = SyntheticData.Create(users: 80);
        var items = data.Items.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, price = i.Price }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await secret.PutJson("/v1/items", new { items })).StatusCode);
        var events = data.Sequences.SelectMany((sequence, u) => sequence.Select((item, n) =>
            Http.View($"seed-{u}-{n}", data.Users[u], data.Items[item].Id, at: DateTimeOffset.UtcNow.AddHours(-2).AddMinutes(n)))).ToArray();
        foreach (var batch in events.Chunk(1000))
        {
            var posted = await (await secret.PostJson("/v1/events", new { events = batch })).Read<PostEventsResponse>();
            Assert.Equal(batch.Length, posted.Accepted);
        }
    }

    private static async Task<IReadOnlyList<ClickLogRecordResponse>> ReadLogAsync(HttpClient secret, string userId, CancellationToken ct)
    {
        var records = new List<ClickLogRecordResponse>();
        for (var cursor = "0"; ;)
        {
            var page = await (await secret.GetAsync($"/v1/clicklog?cursor={cursor}&limit=1000", ct)).Read<ClickLogPageResponse>();
            records.AddRange(page.Records.Where(r => r.UserId == userId));
            if (!page.More)
            {
                return records;
            }

            cursor = page.NextCursor;
        }
    }

    private static async Task<string[]> ServedRequestIdsAsync(IPage page) =>
        JsonSerializer.Deserialize<string[]>(await page.EvaluateAsync<string>("JSON.stringify([...window.shop.served.map(s => s.requestId), ...window.shop.suggested.map(s => s.requestId)])"))!;

    private static async Task PollAsync(Func<Task<bool>> condition, string what, TimeSpan limit, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {limit.TotalSeconds:0} s waiting for {what}");
            await Task.Delay(200, ct);
        }
    }

    private sealed record TrackedEvent(string EventId, string UserId, string SessionId, string Type, string? ItemId, string? Query, string? RequestId, int? Position);
}
