namespace SessionRec.Api.Tests;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using SessionRec.Api.Contracts;
using SessionRec.Models.Data;
using SessionRec.Silo.Embedded;

/// <summary>
/// The embedded default as a user runs it: the real API process, nothing else installed, data in a folder.
/// It is killed without warning and started again, and must still have everything it acknowledged.
/// </summary>
public sealed class EmbeddedProcessTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("sessionrec-embedded-").FullName;
    private readonly int _port = EmbeddedGarnet.FreeLoopbackPort();
    private EmbeddedApiProcess? _process;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Kill();
        Directory.Delete(_data, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task TheEmbeddedDefaultKeepsAcknowledgedDataThroughACrash()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = await StartAsync();
        await http.PutJson("/v1/items", new { items = new[] { Http.Item("a", "OPI"), Http.Item("b") } });
        var posted = await (await http.PostJson("/v1/events", new { events = new[] { Http.View("e1", "u1", "a"), Http.View("e2", "u1", "b") } })).Read<PostEventsResponse>();
        Assert.Equal(2, posted.Accepted);

        // The generated key is readable by its owner only.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_data, "api-key.txt")));
        }

        Kill(); // SIGKILL: no graceful shutdown, no flush on exit
        using var again = await StartAsync();

        var item = await (await again.GetAsync("/v1/items/a", ct)).Read<ItemResponse>();
        Assert.Equal("OPI", item.Brand);
        var session = await (await again.GetAsync("/v1/users/u1/session", ct)).Read<UserSessionResponse>();
        Assert.Equal(["a", "b"], session.Current!.Events.Select(e => e.ItemId));
        var retry = await (await again.PostJson("/v1/events", new { events = new[] { Http.View("e2", "u1", "b") } })).Read<PostEventsResponse>();
        Assert.Equal(1, retry.Duplicates);

        // Suggestions and the knowledge store work in the embedded default, without an LLM.
        // Right after a restart on a busy machine the cluster may still answer 503 + Retry-After: retry as clients do.
        var knowledgeResponse = await again.GetAsync("/v1/users/u1/knowledge", ct);
        for (var attempt = 0; knowledgeResponse.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < 5; attempt++)
        {
            await Task.Delay(knowledgeResponse.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), ct);
            knowledgeResponse = await again.GetAsync("/v1/users/u1/knowledge", ct);
        }

        Assert.True(knowledgeResponse.IsSuccessStatusCode, await knowledgeResponse.Content.ReadAsStringAsync(ct));
        var knowledge = await knowledgeResponse.Read<KnowledgeResponse>();
        Assert.Equal(2, knowledge.Stream.Count);
        Assert.Contains(knowledge.Entities, e => e.Id == "brand:opi");
        var suggestions = await (await again.GetAsync("/v1/users/u1/suggestions?q=o", ct)).Read<SuggestionsResponse>();
        Assert.Null(suggestions.Llm);
        Assert.Contains(suggestions.Suggestions, s => s.Text == "OPI");
    }

    /// <summary>
    /// Started as the quick start says, the working folder (the content root) holds the data folder: a watch on it
    /// woke the service at every write of the store's files. The count is the kernel's (inotify watches in
    /// /proc/PID/fdinfo), read after the store has written.
    /// </summary>
    [Fact(Timeout = 120_000)]
    public async Task StartedInAFolderHoldingItsDataTheServiceWatchesNoFiles()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "inotify watches are counted through Linux's /proc.");
        using var working = new SessionRec.TestSupport.TempFolder();
        File.WriteAllText(Path.Combine(working.Path, "appsettings.json"), """{ "Logging": { "LogLevel": { "Default": "Warning" } } }""");
        var data = Path.Combine(working.Path, "data");
        using var process = new EmbeddedApiProcess(data, _port) { WorkingDirectory = working.Path };
        await process.StartAsync();
        using var http = process.ClientFor();
        var posted = await (await http.PostJson("/v1/events", new { events = new[] { Http.View("w1", "u1", "a"), Http.View("w2", "u1", "b") } })).Read<PostEventsResponse>();
        Assert.Equal(2, posted.Accepted);

        Assert.Equal(0, InotifyWatches(process.ProcessId));
    }

    private static int InotifyWatches(int pid)
    {
        var watches = 0;
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fdinfo"))
        {
            try
            {
                watches += File.ReadLines(fd).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // The descriptor closed while it was read.
            }
        }

        return watches;
    }

    [Fact]
    public async Task ADirectImportIntoTheDataFolderIsServedWhenTheServiceStarts()
    {
        var ct = TestContext.Current.CancellationToken;
        var dataset = new SessionRec.Models.Data.Dataset(
            "direct",
            [new("d1", "One", "B", ["C"], new Dictionary<string, string>(), null), new("d2", "Two", null, [], new Dictionary<string, string>(), null), new("d3", "Three", null, [], new Dictionary<string, string>(), null)],
            [new("x", "d1", "view", null, null), new("x", "d2", "view", null, null), new("y", "d1", "view", null, null), new("y", "d3", "view", null, null), new("z", "d1", "view", null, null), new("z", "d2", "view", null, null)]);
        var events = SessionRec.Cli.Import.Timeline.Assign(dataset, DateTimeOffset.UtcNow.AddHours(-4), TimeSpan.FromDays(1));
        using (var target = new SessionRec.Cli.Import.DirectTarget(_data, "default"))
        {
            var totals = await new SessionRec.Cli.Import.Importer(target).ImportAsync(dataset, events, ct);
            Assert.Equal((3, 6), (totals.Items, totals.Accepted));
        }

        using var http = await StartAsync();

        // The session grain replays x's records from the click log. The imported session ended hours ago: it is
        // x's most recent session, not a live one.
        var session = await (await http.GetAsync("/v1/users/x/session", ct)).Read<UserSessionResponse>();
        Assert.Null(session.Current);
        Assert.Equal(["d1", "d2"], session.Recent[0].Events.Select(e => e.ItemId));

        // A direct import publishes no statistics snapshot: the first request wakes the builder, which reads the
        // log and publishes one; the replica serves it at its next poll (1 s). Until then the newest items fill in.
        var started = System.Diagnostics.Stopwatch.StartNew();
        RecommendationsResponse recs;
        do
        {
            recs = await (await http.GetAsync("/v1/users/new/recommendations?context_item=d1", ct)).Read<RecommendationsResponse>();
        }
        while (recs.Items[0].Source != "cooccurrence" && started.Elapsed < TimeSpan.FromSeconds(20) && await Pause(ct));

        Assert.Equal(("d2", "cooccurrence"), (recs.Items[0].ItemId, recs.Items[0].Source));
        TestContext.Current.SendDiagnosticMessage($"learned from the direct import after {started.ElapsedMilliseconds} ms");

        // While the service runs, the folder is locked against a second server.
        var error = Assert.Throws<InvalidOperationException>(() => new SessionRec.Cli.Import.DirectTarget(_data, "default"));
        Assert.Contains("in use by another SessionRec process", error.Message);
    }

    [Fact(Timeout = 180_000)]
    public async Task TheGeneratedKeyKeepsWorkingBesideConfiguredKeysAndTheStoreNeedsItsPassword()
    {
        var ct = TestContext.Current.CancellationToken;
        var storePort = EmbeddedGarnet.FreeLoopbackPort();
        using var http = await StartAsync("--Auth:Keys:0:Key=configured-key-0123456789", "--Auth:Keys:0:Tenant=other", $"--Storage:EmbeddedPort={storePort}");

        // The generated key of the tenant "default" still opens the API with a key configured for another tenant.
        Assert.Equal(HttpStatusCode.OK, (await http.PutJson("/v1/items", new { items = new[] { Http.Item("a") } })).StatusCode);
        using var configured = new HttpClient { BaseAddress = http.BaseAddress };
        configured.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "configured-key-0123456789");
        Assert.Equal(HttpStatusCode.NotFound, (await configured.GetAsync("/v1/items/a", ct)).StatusCode);

        // The admin key in the data folder lists both, and never their text.
        using var admin = new HttpClient { BaseAddress = http.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(_data, "admin-key.txt"), ct)).Trim());
        var keys = await (await admin.GetAsync("/v1/admin/keys", ct)).Read<KeysResponse>();
        Assert.Equal(
            ["default/generated/publishable", "default/generated/secret", "other/configuration/secret"],
            keys.Keys.Select(k => $"{k.Tenant}/{k.Source}/{k.Scope}").Order(StringComparer.Ordinal));

        // The embedded store listens on loopback with a generated password: a local process without it reads nothing.
        var secret = Path.Combine(_data, EmbeddedGarnet.SecretFile);
        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in new[] { secret, Path.Combine(_data, "admin-key.txt"), Path.Combine(_data, "api-key.txt"), Path.Combine(_data, "publishable-key.txt") })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        await using (var intruder = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{storePort},abortConnect=false,connectTimeout=2000"))
        {
            await Assert.ThrowsAnyAsync<StackExchange.Redis.RedisException>(() => intruder.GetDatabase().PingAsync());
        }

        await using var owner = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{storePort},password={(await File.ReadAllTextAsync(secret, ct)).Trim()}");
        await owner.GetDatabase().PingAsync(); // throws if the password were refused
    }

    private async Task<HttpClient> StartAsync(params string[] settings)
    {
        _process?.Kill();
        _process = new EmbeddedApiProcess(_data, _port);
        await _process.StartAsync(settings);
        return _process.ClientFor();
    }

    private void Kill() => _process?.Kill();

    private static async Task<bool> Pause(CancellationToken ct)
    {
        await Task.Delay(100, ct);
        return true;
    }
}
