namespace SessionRec.Footprint;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Text.Json.Nodes;
using SessionRec.Bench;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// What the click log costs to keep: appends N view events (UUID-style ids, as clients send them; U users) through
/// the service's own <see cref="RedisClickLog"/> and reports
/// <list type="bullet">
/// <item>in redis-server (the cluster mode's store), the memory of each structure per event: the records, the dedup
/// index (per million ids, a key each) and the per-user index, from <c>MEMORY USAGE</c> and <c>INFO memory</c>;</item>
/// <item>in the embedded default's Garnet, the bytes its append-only file grows by per event (what is durable).</item>
/// </list>
/// Usage: [--events 200000] [--users 5000] [--json docs/results/bench-ingest.json]
/// </summary>
public static class LogFootprint
{
    private const string Tenant = "footprint";
    private const int Batch = 100;

    public static int Run(string[] args)
    {
        var options = BenchOptions.Parse(args);

        var events = int.Parse(options.GetValueOrDefault("events", "200000"), CultureInfo.InvariantCulture);
        var users = int.Parse(options.GetValueOrDefault("users", "5000"), CultureInfo.InvariantCulture);
        var facts = new Dictionary<string, double>(StringComparer.Ordinal);
        RedisServer(events, users, facts).GetAwaiter().GetResult();
        Garnet(events, users, facts).GetAwaiter().GetResult();
        foreach (var (name, value) in facts)
        {
            Console.WriteLine($"{name}: {value:N1}");
        }

        if (options.GetValueOrDefault("json") is { } json)
        {
            var root = File.Exists(json) ? JsonNode.Parse(File.ReadAllText(json))!.AsObject() : new JsonObject { ["kind"] = "bench", ["name"] = "ingest", ["rows"] = new JsonArray() };
            var written = root["facts"] as JsonObject ?? [];
            root["facts"] = written;
            foreach (var (name, value) in facts)
            {
                written[name] = Math.Round(value, 1);
            }

            written["footprint_command"] = $"dotnet run -c Release --project bench/SessionRec.Footprint -- --events {events} --users {users}";
            File.WriteAllText(json, root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"facts merged into {json} (its .md is rewritten by the next LoadTest run)");
        }

        return 0;
    }

    private static async Task RedisServer(int events, int users, Dictionary<string, double> facts)
    {
        var port = FreePort();
        var dir = Directory.CreateTempSubdirectory("sessionrec-footprint-");
        using var server = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning", "--dir", dir.FullName])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            using var redis = await ConnectAsync($"127.0.0.1:{port}");
            var db = redis.GetDatabase();
            var before = UsedMemory(redis, port);
            var log = new RedisClickLog(redis, new ServerPolicyBarrier());
            facts["redis_append_events_per_s"] = await AppendAsync(log, events, users);
            var after = UsedMemory(redis, port);

            // One string key per record: their sizes summed, many at a time.
            long records = 0;
            foreach (var chunk in Enumerable.Range(1, events).Chunk(1_000))
            {
                records += (await Task.WhenAll(chunk.Select(s => MemoryUsage(db, RedisKeys.LogRecord(Tenant, s))))).Sum();
            }

            // The dedup index: a key per id, found by name.
            long ids = 0;
            var keysOfIds = new List<RedisKey>();
            await foreach (var key in redis.GetServer("127.0.0.1", port).KeysAsync(pattern: RedisKeys.LogEventIdPrefix(Tenant) + "*", pageSize: 1_000))
            {
                keysOfIds.Add(key);
            }

            foreach (var chunk in keysOfIds.Chunk(1_000))
            {
                ids += (await Task.WhenAll(chunk.Select(k => MemoryUsage(db, k)))).Sum();
            }

            facts["dedup_id_keys"] = keysOfIds.Count;
            // A user's index: its count, its first live slot (absent until retention trims it) and its chunks.
            long userIndexes = 0;
            for (var u = 0; u < users; u++)
            {
                var user = User(u);
                var slots = (long?)await db.StringGetAsync(UserIndex.Count(Tenant, user)) ?? 0;
                RedisKey[] keys = [UserIndex.Count(Tenant, user), UserIndex.First(Tenant, user),
                    .. Enumerable.Range(0, (int)((slots + UserIndex.Slots - 1) / UserIndex.Slots)).Select(k => UserIndex.Chunk(Tenant, user, k))];
                userIndexes += (await Task.WhenAll(keys.Select(k => MemoryUsage(db, k)))).Sum();
            }

            facts["redis_used_memory_bytes_per_event"] = (after - before) / (double)events;
            facts["log_bytes_per_event"] = (records + userIndexes) / (double)events;
            facts["log_record_bytes_per_event"] = records / (double)events;
            facts["user_index_bytes_per_event"] = userIndexes / (double)events;
            facts["dedup_bytes_per_million_ids"] = ids / (double)events * 1_000_000;
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
            dir.Delete(recursive: true);
        }
    }

    private static async Task Garnet(int events, int users, Dictionary<string, double> facts)
    {
        var dir = Directory.CreateTempSubdirectory("sessionrec-footprint-garnet-");
        try
        {
            using var garnet = EmbeddedGarnet.Start(dir.FullName);
            using var redis = await ConnectAsync(garnet.ConnectionString);
            var log = new RedisClickLog(redis, new GarnetCommitBarrier(garnet));
            var before = DirectoryBytes(dir.FullName);
            var heapBefore = ManagedHeapBytes();
            facts["embedded_append_events_per_s"] = await AppendAsync(log, events, users);
            facts["embedded_aof_bytes_per_event"] = (DirectoryBytes(dir.FullName) - before) / (double)events;

            // The store runs in this process: its hashes are objects on this heap, which every
            // collection of the service's process has to reckon with (its strings, the records, are in its log pages).
            facts["embedded_managed_heap_bytes_per_event"] = (ManagedHeapBytes() - heapBefore) / (double)events;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Appends the events in batches; returns the rate, events per second, from one client.</summary>
    private static async Task<double> AppendAsync(IClickLog log, int events, int users)
    {
        var random = new Random(17);
        var now = DateTimeOffset.UtcNow;
        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < events; start += Batch)
        {
            var batch = new UserEvent[Math.Min(Batch, events - start)];
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = new UserEvent(Guid.NewGuid().ToString(), User(random.Next(users)), null, EventType.View, random.Next(1, 12_102).ToString(CultureInfo.InvariantCulture), null, null, null, now, now);
            }

            await log.AppendAsync(Tenant, batch);
            if (start % 50_000 == 0)
            {
                Console.WriteLine($"  {start:N0} of {events:N0} appended, {stopwatch.Elapsed.TotalSeconds:0.0} s");
            }
        }

        return events / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>The managed heap's size after a full, compacting collection.</summary>
    private static long ManagedHeapBytes()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
    }

    private static string User(int u) => "user-" + u.ToString(CultureInfo.InvariantCulture);

    private static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync(configuration + ",abortConnect=true,connectTimeout=1000,allowAdmin=true");
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static long UsedMemory(ConnectionMultiplexer redis, int port)
    {
        var info = redis.GetServer("127.0.0.1", port).Info("memory").SelectMany(g => g).First(p => p.Key == "used_memory").Value;
        return long.Parse(info, CultureInfo.InvariantCulture);
    }

    private static async Task<long> MemoryUsage(IDatabase db, RedisKey key) =>
        (long?)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0") ?? 0;

    private static long DirectoryBytes(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
