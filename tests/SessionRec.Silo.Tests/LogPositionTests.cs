namespace SessionRec.Silo.Tests;

using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;

/// <summary>A reader's place in a partitioned log: how snapshots store it, and how clients hand it back as a cursor.</summary>
public sealed class LogPositionTests
{
    private static byte[] Bytes(LogPosition position)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            position.WriteTo(writer);
        }

        return stream.ToArray();
    }

    private static LogPosition Read(byte[] bytes) => LogPosition.ReadFrom(new BinaryReader(new MemoryStream(bytes)));

    [Fact]
    public void APositionInALogOfOnePartitionIsStoredAsTheBareNumberSnapshotsAlwaysHeld()
    {
        Assert.Equal(BitConverter.GetBytes(42L), Bytes(LogPosition.Of(42)));
        Assert.Equal(LogPosition.Of(42), Read(BitConverter.GetBytes(42L)));
    }

    [Fact]
    public void APositionInAPartitionedLogRoundTripsAndItsTotalGrowsWithEveryPartition()
    {
        var position = LogPosition.Of(3, 0, 9, 1);

        Assert.Equal(position, Read(Bytes(position)));
        Assert.Equal(13, position.Total);
        Assert.Equal(14, position.With(3, 2).Total);
        Assert.Same(position, position.With(2, 5));
        Assert.Equal(1, position.LowestNext);
    }

    [Fact]
    public void APositionMovesPastAPageInEachRecordsPartitionAndNeverBack()
    {
        static ClickLogRecord Record(int partition, long sequence) =>
            new(sequence, new UserEvent($"e{partition}-{sequence}", "u", null, EventType.View, "a", null, null, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch)) { Partition = partition };

        var position = LogPosition.Of(3, 7);

        Assert.Equal(LogPosition.Of(6, 7), position.After([Record(0, 4), Record(0, 6), Record(1, 5)]));
        Assert.Same(position, position.After([]));
    }

    [Fact]
    public void APositionIsBehindALastPositionWhenAnyPartitionHasMore()
    {
        var last = LogPosition.Of(5, 5);

        Assert.True(LogPosition.Of(5, 4).IsBehind(last));
        Assert.False(LogPosition.Of(5, 5).IsBehind(last));
    }

    [Theory]
    [InlineData("7", 1, true)]
    [InlineData("1.2.3", 3, true)]
    [InlineData("1.2", 3, false)]
    [InlineData("1.-2.3", 3, false)]
    [InlineData("", 1, false)]
    [InlineData(null, 1, false)]
    public void ACursorParsesOnlyWithOneSequencePerPartition(string? cursor, int partitions, bool valid)
    {
        Assert.Equal(valid, LogPosition.TryParse(cursor, partitions, out var position));
        if (valid)
        {
            Assert.Equal(cursor, position.ToString());
        }
    }
}
