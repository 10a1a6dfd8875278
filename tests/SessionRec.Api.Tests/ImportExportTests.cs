namespace SessionRec.Api.Tests;

using System.Text.Json;
using Parquet.Serialization;
using SessionRec.Api.Contracts;
using SessionRec.Cli;
using SessionRec.Cli.Export;
using SessionRec.Cli.Import;
using SessionRec.Models.Data;

/// <summary>`sessionrec import` and `sessionrec export clicklog` against the running API.</summary>
public sealed class ImportExportTests(ApiFixture api) : IClassFixture<ApiFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sessionrec-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ServiceClient Client() => new(api.Factory.CreateClient(), ApiFactory.KeyB);

    private static Dataset Small() => new(
        "small",
        [new ImportItem("s-a", "A", "Brand", ["Cat"], new Dictionary<string, string>(), 1m), new ImportItem("s-b", "B", null, [], new Dictionary<string, string>(), null)],
        [new ImportInteraction("imp-u1", "s-a", "view", 1_000, null), new ImportInteraction("imp-u1", "s-b", "view", 1_060, null), new ImportInteraction("imp-u2", "s-b", "add_to_cart", 5_000, null)]);

    [Fact]
    public async Task ImportingTwiceLoadsEverythingOnceAndTheExportHoldsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = Client();
        var events = Timeline.Assign(Small(), DateTimeOffset.UtcNow.AddHours(-4), TimeSpan.FromDays(6));

        var first = await new Importer(new HttpTarget(client)).ImportAsync(Small(), events, ct);
        var second = await new Importer(new HttpTarget(client)).ImportAsync(Small(), events, ct);

        Assert.Equal((2, 3, 0, 0), (first.Items, first.Accepted, first.Duplicates, first.Rejected));
        Assert.Equal((0, 3), (second.Accepted, second.Duplicates));
        var session = await (await api.B.GetAsync("/v1/users/imp-u1/session", ct)).Read<UserSessionResponse>();
        Assert.Null(session.Current); // the imported session ended hours ago
        Assert.Equal(["s-a", "s-b"], session.Recent[0].Events.Select(e => e.ItemId));

        var ndjson = Path.Combine(_dir, "log.ndjson");
        var parquet = Path.Combine(_dir, "log.parquet");
        var exporter = new ClickLogExporter(client);
        var n1 = await exporter.ExportAsync(ndjson, "ndjson", null, null, null, ct);
        var n2 = await exporter.ExportAsync(parquet, "parquet", null, null, null, ct);

        var lines = (await File.ReadAllLinesAsync(ndjson, ct)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var mine = lines.Where(l => l.GetProperty("user_id").GetString()!.StartsWith("imp-", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, mine.Count);
        Assert.Equal("add_to_cart", mine.Single(l => l.GetProperty("user_id").GetString() == "imp-u2").GetProperty("type").GetString());
        Assert.Equal(n1, n2);

        await using var stream = File.OpenRead(parquet);
        var rows = (await ParquetSerializer.DeserializeAsync<SessionRec.Silo.ClickLog.ClickLogRow>(stream, cancellationToken: ct)).Data;
        Assert.Equal(n1, rows.Count);
        Assert.Equal(
            mine.Select(l => l.GetProperty("event_id").GetString()).Order(),
            rows.Where(r => r.UserId.StartsWith("imp-", StringComparison.Ordinal)).Select(r => r.EventId).Order());
    }
}
