namespace SessionRec.Api.Tests;

using System.Diagnostics;

/// <summary>
/// The browser client's own tests (clients/js, Node's test runner), run by the solution's one test command so that
/// a change to the client fails the same CI as a change to the service.
/// </summary>
public sealed class JsClientTests
{
    [Fact(Timeout = 180_000)]
    public async Task TheJavaScriptClientsTestsPass()
    {
        var folder = Path.Combine(SessionRec.TestSupport.Repository.Root, "clients", "js");
        var node = FindOnPath("node");
        Assert.SkipWhen(node is null, "Node.js is not installed (apt-get install nodejs; the CI machine has it).");

        var info = new ProcessStartInfo(node!) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--test", "--test-timeout=60000", "--test-reporter=spec", "test/" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var text = await output + await error;
        TestContext.Current.SendDiagnosticMessage(text);

        Assert.True(process.ExitCode == 0, text);
        Assert.Matches(@"pass [1-9]\d*", text);
        Assert.Contains("fail 0", text, StringComparison.Ordinal);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
