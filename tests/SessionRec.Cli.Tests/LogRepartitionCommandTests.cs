namespace SessionRec.Cli.Tests;

using SessionRec.Abstractions.ClickLog;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Embedded;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>`sessionrec log repartition` on a data folder that `sessionrec generate clicklog` wrote (one partition, the embedded default's).</summary>
public sealed class LogRepartitionCommandTests
{
    [Fact(Timeout = 120_000)]
    public async Task AGeneratedLogIsSplitIntoTheAskedPartitionsAndARunAgainChangesNothing()
    {
        using var dir = new TempFolder();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(0, await Program.RunAsync(["generate", "clicklog", "--direct", "--data", dir.Path, "--records", "3000", "--users", "200"], ct));

        Assert.Equal(0, await Program.RunAsync(["log", "repartition", "--direct", "--data", dir.Path, "--partitions", "4"], ct));
        Assert.Equal(0, await Program.RunAsync(["log", "repartition", "--direct", "--data", dir.Path, "--partitions", "4"], ct));

        using var garnet = EmbeddedGarnet.Start(dir.Path);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(garnet.ConnectionString);
        var log = new RedisClickLog(redis, new GarnetCommitBarrier(garnet));
        Assert.Equal(4, await log.PartitionsAsync("default"));
        var records = await log.ReadAllAsync("default");
        Assert.InRange(records.Count, 3000, 3100);
        Assert.Equal(4, records.Select(r => r.Partition).Distinct().Count());
        Assert.Equal(records.Count, records.Select(r => r.Sequence).Distinct().Count());
    }

    [Fact]
    public async Task RepartitioningNeedsAStoreAndACount()
    {
        var ct = TestContext.Current.CancellationToken;
        await Assert.ThrowsAsync<ArgumentException>(() => Program.RunAsync(["log", "repartition", "--partitions", "4"], ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Program.RunAsync(["log", "repartition", "--direct", "--data", "x"], ct));
    }
}
