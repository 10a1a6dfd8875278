namespace SessionRec.Api.Tests;

using SessionRec.Api.Errors;
using StackExchange.Redis;

/// <summary>
/// A store that does not answer — restarting, loading its data, failing over — is a 503 with Retry-After (the client
/// retries with the same event ids), never a 500: the chaos suite's Redis restart found a grain whose state could not
/// be read answering 500.
/// </summary>
public sealed class ProblemClassificationTests
{
    public static TheoryData<string, Exception, int> Cases => new()
    {
        { "a grain's storage provider failed", new Orleans.Runtime.OrleansException("Error from storage provider StringGrainStorage.session during ReadStateAsync", new RedisConnectionException(ConnectionFailureType.SocketFailure, "SocketFailure")), 503 },
        { "Redis loading its data", new RedisServerException("LOADING Redis is loading the dataset in memory"), 503 },
        { "a cluster failing over", new RedisServerException("CLUSTERDOWN The cluster is down"), 503 },
        { "a Redis timeout", new RedisTimeoutException("Timeout performing GET", CommandStatus.WaitingToBeSent), 503 },
        { "a script error (a bug)", new RedisServerException("ERR Error running script"), 500 },
        { "an Orleans error unrelated to storage", new Orleans.Runtime.OrleansException("something else"), 500 },
        { "a stored value that is not JSON", new System.Text.Json.JsonException("'0x00' is invalid within a JSON string."), 500 },
        { "a request body that is not JSON", new Microsoft.AspNetCore.Http.BadHttpRequestException("Failed to read parameter", new System.Text.Json.JsonException("bad")), 400 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void StoreOutagesAre503AndBugsStay500(string what, Exception exception, int status)
    {
        Assert.Equal((what, status), (what, ProblemExceptionHandler.Classify(exception, write: true).Status));
    }
}
