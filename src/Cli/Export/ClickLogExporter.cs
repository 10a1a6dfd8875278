namespace SessionRec.Cli.Export;

using System.Text.Json;
using Parquet.Serialization;
using SessionRec.Silo.ClickLog;

/// <summary>
/// Writes a tenant's click log (read through GET /v1/clicklog) as NDJSON or Parquet, the schema of
/// docs/clicklog.md. Both load straight into DuckDB: read_json_auto('x.ndjson'), read_parquet('x.parquet').
/// </summary>
public sealed class ClickLogExporter(ServiceClient client)
{
    private sealed record Page(List<ClickLogRow> Records, string NextCursor, bool More);

    public async Task<int> ExportAsync(string path, string format, DateTimeOffset? from, DateTimeOffset? to, Action<long, bool>? progress, CancellationToken cancellationToken)
    {
        var rows = new List<ClickLogRow>();
        string? cursor = null;
        long read = 0;
        while (true)
        {
            var query = "/v1/clicklog?limit=5000" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            if (from is not null)
            {
                query += "&from=" + Uri.EscapeDataString(from.Value.ToString("O"));
            }

            if (to is not null)
            {
                query += "&to=" + Uri.EscapeDataString(to.Value.ToString("O"));
            }

            var page = await client.SendAsync<Page>(HttpMethod.Get, query, null, cancellationToken);
            rows.AddRange(page.Records);
            read += page.Records.Count;
            progress?.Invoke(read, page.More);
            if (!page.More || page.NextCursor == cursor)
            {
                break;
            }

            cursor = page.NextCursor;
        }

        foreach (var row in rows)
        {
            row.Timestamp = row.Timestamp.ToUniversalTime();
            row.ReceivedAt = row.ReceivedAt.ToUniversalTime();
        }

        await using var file = File.Create(path);
        if (format == "parquet")
        {
            await ParquetSerializer.SerializeAsync(rows, file, cancellationToken: cancellationToken);
        }
        else
        {
            await using var writer = new StreamWriter(file);
            foreach (var row in rows)
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(row));
            }
        }

        return rows.Count;
    }
}
