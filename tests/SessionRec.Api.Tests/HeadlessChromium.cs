namespace SessionRec.Api.Tests;

using Microsoft.Playwright;

/// <summary>
/// Debian's Chromium (installed by .ci/run), driven by Playwright without `playwright install` (it cannot download
/// here); tests skip, saying why, where it is absent.
/// </summary>
public static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    public static void SkipWhenAbsent() =>
        Assert.SkipWhen(!File.Exists(Path), $"{Path} is not installed (apt-get install chromium; .ci/run does).");

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
}
