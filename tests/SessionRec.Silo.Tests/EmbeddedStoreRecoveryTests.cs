namespace SessionRec.Silo.Tests;

using System.Security.Cryptography;
using SessionRec.Silo.Embedded;
using StackExchange.Redis;

/// <summary>
/// The embedded store's recovery: a checkpoint it cannot read must stop the start, never start it half full; a store
/// larger than its memory keeps all of it.
/// </summary>
public sealed class EmbeddedStoreRecoveryTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_store_whose_checkpoint_cannot_be_read_refuses_to_start_and_leaves_its_folder_as_it_was()
    {
        var dir = Directory.CreateTempSubdirectory("sessionrec-recovery-").FullName;
        try
        {
            // The in-memory log kept in the checkpoint, as a periodic checkpoint (what a crash recovers from) holds it.
            var garnet = EmbeddedGarnet.Start(dir, new Hosting.StorageOptions { CheckpointInterval = TimeSpan.Zero });
            await using (var redis = await ConnectionMultiplexer.ConnectAsync(garnet.ConnectionString))
            {
                var db = redis.GetDatabase();
                for (var i = 0; i < 200; i++)
                {
                    await db.HashSetAsync($"sr:{{t}}:h{i}", [new HashEntry("a", i), new HashEntry("b", new string('x', 100))]);
                }
            }

            garnet.Dispose(); // a graceful stop: a checkpoint holding the hashes

            // The object snapshot overwritten with what an unreadable one gave back here: an unknown object type id.
            var snapshots = Directory.GetFiles(dir, "snapshot.obj.dat.*", SearchOption.AllDirectories);
            Assert.NotEmpty(snapshots);
            foreach (var file in snapshots)
            {
                var bytes = File.ReadAllBytes(file);
                Array.Fill(bytes, (byte)0x37);
                File.WriteAllBytes(file, bytes);
            }

            var before = Fingerprint(dir);
            var refused = Assert.Throws<InvalidOperationException>(() => EmbeddedGarnet.Start(dir).Dispose());
            Assert.Contains("did not start", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Unsupported object type id", refused.Message, StringComparison.Ordinal);
            Assert.Equal(before, Fingerprint(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task A_store_that_outgrows_its_memory_keeps_its_oldest_records_and_has_them_after_a_restart()
    {
        // A 64 MB log in memory and ~150 MB written: without the storage tier the first keys were dropped here.
        var dir = Directory.CreateTempSubdirectory("sessionrec-capacity-").FullName;
        var settings = new Hosting.StorageOptions { MemorySize = "64m" };
        const int Keys = 150_000;
        try
        {
            var value = new string('x', 1_000);
            var garnet = EmbeddedGarnet.Start(dir, settings);
            await using (var redis = await ConnectionMultiplexer.ConnectAsync($"{garnet.ConnectionString},syncTimeout=60000,asyncTimeout=60000"))
            {
                var db = redis.GetDatabase();
                foreach (var batch in Enumerable.Range(0, Keys).Chunk(1_000))
                {
                    await Task.WhenAll(batch.Select(i => db.StringSetAsync($"k{i}", value)));
                }

                Assert.Equal(value, (string?)await db.StringGetAsync("k0"));
                Assert.Equal(1_000, await db.StringLengthAsync("k1"));
            }

            garnet.Dispose();
            Assert.True(LogBytes(dir) > 100_000_000,
                "the records past the memory size are in the log's files");

            using var again = EmbeddedGarnet.Start(dir, settings);
            await using (var redis = await ConnectionMultiplexer.ConnectAsync($"{again.ConnectionString},allowAdmin=true,syncTimeout=60000,asyncTimeout=60000"))
            {
                var db = redis.GetDatabase();
                Assert.Equal(Keys, await redis.GetServer(redis.GetEndPoints()[0]).DatabaseSizeAsync());
                Assert.Equal(value, (string?)await db.StringGetAsync("k0"));
                Assert.Equal(value, (string?)await db.StringGetAsync($"k{Keys - 1}"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Overwritten_values_are_compacted_off_the_disk_and_a_restart_reads_the_last_ones()
    {
        // Small segments and memory, so four rounds over the same keys (~400 MB) leave several segments of old values.
        var dir = Directory.CreateTempSubdirectory("sessionrec-compaction-").FullName;
        var settings = new Hosting.StorageOptions
        {
            MemorySize = "64m", SegmentSize = "32m", CompactionSegments = 4,
            CompactionInterval = TimeSpan.FromSeconds(1), CheckpointInterval = TimeSpan.FromSeconds(2),
        };
        const int Keys = 100_000;
        long LogFiles() => LogBytes(dir);
        try
        {
            // Writes wait on the store's own compaction and checkpoints here: on CI a batch of 1,000 sets outlasted
            // the client's default 5 s.
            using (var garnet = EmbeddedGarnet.Start(dir, settings))
            await using (var redis = await ConnectionMultiplexer.ConnectAsync($"{garnet.ConnectionString},syncTimeout=60000,asyncTimeout=60000"))
            {
                var db = redis.GetDatabase();
                var peak = 0L;
                for (var round = 0; round < 4; round++)
                {
                    var value = new string((char)('a' + round), 1_000);
                    foreach (var batch in Enumerable.Range(0, Keys).Chunk(1_000))
                    {
                        await Task.WhenAll(batch.Select(i => db.StringSetAsync($"k{i}", value)));
                    }

                    peak = Math.Max(peak, LogFiles());
                }

                Assert.True(peak > 250_000_000, $"four rounds put {peak:N0} bytes in the log's files");

                // The live data is ~100 MB; compaction keeps at most CompactionSegments whole segments on disk, plus the
                // one being written. (Half the peak was asked before: 4.5 segments of 8.5 is the normal end state and
                // missed it by a few MB on CI.)
                var bound = (settings.CompactionSegments + 1) * 32L * 1024 * 1024;
                Assert.True(peak > bound + 64L * 1024 * 1024, $"the peak, {peak:N0} bytes, is well over the bound, {bound:N0}");
                var deadline = DateTime.UtcNow.AddSeconds(120);
                while (LogFiles() > bound && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200, TestContext.Current.CancellationToken);
                }

                Assert.True(LogFiles() <= bound, $"the log's files still hold {LogFiles():N0} bytes of {peak:N0} (bound {bound:N0})");
                TestContext.Current.TestOutputHelper?.WriteLine($"log files: peak {peak:N0}, after compaction {LogFiles():N0} bytes");
            }

            // Most keys are read from the disk here, while the restarted store may still be compacting: on a loaded
            // machine a read of 1,000 of them took longer than the client's default 5 s.
            using var again = EmbeddedGarnet.Start(dir, settings);
            await using (var redis = await ConnectionMultiplexer.ConnectAsync($"{again.ConnectionString},syncTimeout=60000,asyncTimeout=60000"))
            {
                var db = redis.GetDatabase();
                var last = 0;
                var read = System.Diagnostics.Stopwatch.StartNew();
                foreach (var batch in Enumerable.Range(0, Keys).Chunk(100))
                {
                    var values = await db.StringGetAsync([.. batch.Select(i => (RedisKey)$"k{i}")]);
                    last += values.Count(v => v.HasValue && ((string)v!)[0] == 'd');
                }

                Assert.Equal(Keys, last);
                TestContext.Current.TestOutputHelper?.WriteLine($"read {Keys:N0} keys after the restart in {read.Elapsed.TotalSeconds:F1} s");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Until 2026-12-03 a graceful stop moved the whole log out of memory before its checkpoint (Tsavorite's
    /// FlushAndEvict): the next process then appended into a page it had not read back, and its first flush of that
    /// page wrote the end of the last record before the stop from memory — zeros. This found the last of 1,000 values
    /// cut (and a user's session state was found so on a real folder).
    /// </summary>
    [Fact(Timeout = 180_000)]
    public async Task The_last_value_written_before_a_graceful_stop_is_whole_after_later_processes_append_and_stop()
    {
        var dir = Directory.CreateTempSubdirectory("sessionrec-tail-").FullName;
        var settings = new Hosting.StorageOptions { CheckpointInterval = TimeSpan.Zero };
        static string Value(int i) => $"{i}:" + new string((char)('a' + (i % 26)), 1_000) + ":end";
        try
        {
            using (var garnet = EmbeddedGarnet.Start(dir, settings))
            await using (var redis = await ConnectionMultiplexer.ConnectAsync(garnet.ConnectionString))
            {
                for (var i = 0; i < 1_000; i++)
                {
                    await redis.GetDatabase().StringSetAsync($"k{i}", Value(i));
                }
            }

            for (var stop = 0; stop < 3; stop++)
            {
                using var garnet = EmbeddedGarnet.Start(dir, settings);
                await using var redis = await ConnectionMultiplexer.ConnectAsync(garnet.ConnectionString);
                await redis.GetDatabase().StringSetAsync($"later{stop}", "appended after a restart");
            }

            using var last = EmbeddedGarnet.Start(dir, settings);
            await using var reader = await ConnectionMultiplexer.ConnectAsync(last.ConnectionString);
            var values = await reader.GetDatabase().StringGetAsync([.. Enumerable.Range(0, 1_000).Select(i => (RedisKey)$"k{i}")]);
            var cut = Enumerable.Range(0, 1_000).Where(i => (string?)values[i] != Value(i)).ToList();
            Assert.True(cut.Count == 0, $"values not read back whole: {string.Join(", ", cut)}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every file under the folder but the lock, with a hash of its bytes.</summary>
    private static List<string> Fingerprint(string dir) =>
        [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "lock")
            .Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(dir, f)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}")];

    /// <summary>Bytes in the store's log files; compaction deletes segments while the folder is listed, so a file gone
    /// before it is sized holds nothing (CI once failed on exactly that).</summary>
    private static long LogBytes(string dir) =>
        new DirectoryInfo(Path.Combine(dir, "garnet", "log")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(SizeOrZero);

    private static long SizeOrZero(FileInfo file)
    {
        try
        {
            file.Refresh();
            return file.Exists ? file.Length : 0;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }
}
