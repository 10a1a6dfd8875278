namespace SessionRec.Silo.Tests;

using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// The one rule for "the store did not answer": a background loop that reads keeps its data on these and tries
/// again. A Redis timeout is a TimeoutException, not a RedisException; missing it once let a Redis restart stop every
/// API process.
/// </summary>
public sealed class StoreFailuresTests
{
    [Fact]
    public void ATimeoutAConnectionFailureAndALoadingServerAreTheStoreNotAnswering()
    {
        Assert.True(StoreFailures.IsUnavailable(new RedisTimeoutException("Timeout performing GET", CommandStatus.WaitingToBeSent)));
        Assert.True(StoreFailures.IsUnavailable(new RedisConnectionException(ConnectionFailureType.SocketClosed, "SocketClosed")));
        Assert.True(StoreFailures.IsUnavailable(new RedisServerException("LOADING Redis is loading the dataset in memory")));
        Assert.True(StoreFailures.IsUnavailable(new Pipelines.Sockets.Unofficial.ConnectionResetException("Connection reset by peer")));
        Assert.False(StoreFailures.IsUnavailable(new IOException("a file")));
        Assert.False(StoreFailures.IsUnavailable(new RedisServerException("ERR Error running script")));
        Assert.False(StoreFailures.IsUnavailable(new TimeoutException("a grain call")));
    }

    [Fact]
    public void ReadingLoopsTreatEveryRedisErrorAndATimeoutAsAStoreError()
    {
        Assert.True(StoreFailures.IsStoreError(new RedisTimeoutException("Timeout performing GET", CommandStatus.WaitingToBeSent)));
        Assert.True(StoreFailures.IsStoreError(new RedisServerException("ERR Error running script")));
        Assert.False(StoreFailures.IsStoreError(new InvalidOperationException("a bug")));
    }

    [Fact]
    public void AGrainCallIsUnavailableWhenItsStateCouldNotBeServed()
    {
        var storage = new Orleans.Runtime.OrleansException("Error from storage provider", new RedisConnectionException(ConnectionFailureType.SocketFailure, "SocketFailure"));
        var loading = new Orleans.Runtime.OrleansException("Error from storage provider", new RedisServerException("LOADING Redis is loading the dataset in memory"));

        Assert.True(StoreFailures.IsGrainStorageUnavailable(storage));
        Assert.True(StoreFailures.IsGrainStorageUnavailable(loading));
        Assert.False(StoreFailures.IsGrainStorageUnavailable(new Orleans.Runtime.OrleansException("something else")));
        Assert.False(StoreFailures.IsGrainStorageUnavailable(new Orleans.Runtime.OrleansException("Error from storage provider", new InvalidOperationException("a bug"))));
        Assert.False(StoreFailures.IsGrainStorageUnavailable(new RedisConnectionException(ConnectionFailureType.SocketFailure, "not wrapped")));
    }
}
