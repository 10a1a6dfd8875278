namespace SessionRec.Api.Tests;

using System.Globalization;
using Microsoft.Playwright;

/// <summary>
/// The analyst dashboard in headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run) against the
/// running service and the click log it produced: the per-model table, the charts' points, the A/B readout and a
/// session's drill-down show the log's numbers. A screenshot is saved beside the test binaries.
/// </summary>
[Collection(AnalyticsCollection.Name)]
public sealed class DashboardBrowserTests(AnalyticsFixture fixture)
{

    [Fact]
    public async Task TheDashboardChartsTheLogsNumbersAndDrillsIntoASession()
    {
        HeadlessChromium.SkipWhenAbsent();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1400 } });
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);

        // The key travels in the fragment, which the browser never sends to the server.
        await page.GotoAsync($"{fixture.BaseUrl}/dashboard#key={ApiFactory.KeyA}");
        await page.WaitForSelectorAsync("#models tbody tr[data-model='v1']");

        Assert.Equal("20", await page.InnerTextAsync("#sessions"));
        var baselineRow = await page.Locator("#models tbody tr[data-model='baseline-cooc-1'] td").AllInnerTextsAsync();
        Assert.Equal(["baseline-cooc-1", "recommendations", "10", "10", "0.5000"], baselineRow.Take(5));
        Assert.Equal("0.3000", baselineRow[9]);

        // Every chart has one point per (day, model version) with the value of the API's per-day rows.
        foreach (var chart in new[] { "metric", "ctr", "hr_at_10", "conversion" })
        {
            var points = page.Locator($"[data-chart='{chart}'] circle.point");
            Assert.True(await points.CountAsync() >= 2, chart);
        }

        // Axis labels are round numbers with enough decimals: only the origin reads zero.
        var ticks = await page.Locator("[data-chart] text.tick").EvaluateAllAsync<string[]>("items => items.map(i => i.textContent)");
        Assert.NotEmpty(ticks);
        Assert.DoesNotContain(ticks, t => t != "0" && !t.Contains('-') && double.Parse(t, CultureInfo.InvariantCulture) == 0);

        var modelPoints = page.Locator("[data-chart='ctr'] circle.point[data-model='v1']");
        Assert.Equal("1", await modelPoints.First.GetAttributeAsync("data-value"));
        var baselineConversion = page.Locator("[data-chart='conversion'] circle.point[data-model='baseline-cooc-1']");
        Assert.Equal(0.3, double.Parse((await baselineConversion.First.GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture), 9);

        await page.SelectOptionAsync("#compare-a", "baseline-cooc-1");
        await page.SelectOptionAsync("#compare-b", "v1");
        await page.ClickAsync("#compare button");
        await page.WaitForFunctionAsync("document.querySelector('#comparison').textContent.includes('95% CI')");
        Assert.StartsWith("NUM: v1 − baseline-cooc-1 = 0.5000", await page.InnerTextAsync("#comparison"), StringComparison.Ordinal);

        await page.Locator("#worst tbody tr").First.ClickAsync();
        await page.WaitForSelectorAsync("#timeline:not([hidden]) #timeline-events li[data-type='impression']");
        var events = await page.Locator("#timeline-events li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.type)");
        Assert.Equal(["view", "view", "impression"], events);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000);
        TestContext.Current.SendDiagnosticMessage($"dashboard screenshot: {screenshot}");
        Assert.Empty(errors);
    }
}
