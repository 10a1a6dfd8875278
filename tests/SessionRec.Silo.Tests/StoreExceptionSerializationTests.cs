namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Serialization;
using SessionRec.Silo.Hosting;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// A store failure thrown in a silo (a session grain reading the click log as it activates while Redis restarts)
/// reaches the API process that called it as the same failure, so the API answers 503 and the client retries.
/// Orleans' serializer refuses Redis exceptions unless told of their namespace (these tests fail without it). The
/// serializers are the ones the silo and the API client are configured with (hosts built, not started).
/// </summary>
public sealed class StoreExceptionSerializationTests
{
    private const string Redis = "127.0.0.1:1,abortConnect=false";

    public static TheoryData<string> Failures => ["connection", "timeout", "loading", "reset"];

    [Theory]
    [MemberData(nameof(Failures))]
    public void AStoreFailureThrownInASiloReachesTheApiClientAsAStoreFailure(string failure)
    {
        Exception thrown = failure switch
        {
            "connection" => new RedisConnectionException(ConnectionFailureType.SocketClosed, "SocketClosed on 127.0.0.1:6390"),
            "timeout" => new RedisTimeoutException("Timeout performing ZRANGE", CommandStatus.Sent),
            "reset" => new Pipelines.Sockets.Unofficial.ConnectionResetException("Connection reset by peer"),
            _ => new RedisServerException("LOADING Redis is loading the dataset in memory"),
        };

        var received = RoundTrip(Thrown(thrown));

        Assert.IsType(thrown.GetType(), received);
        Assert.Equal(thrown.Message, received.Message);
        Assert.True(StoreFailures.IsUnavailable(received));
    }

    [Fact]
    public void AStoreFailureInsideAnotherErrorStaysFindable()
    {
        var received = RoundTrip(Thrown(new Orleans.Runtime.OrleansException(
            "Error from storage provider", new RedisConnectionException(ConnectionFailureType.UnableToConnect, "UnableToConnect"))));

        Assert.True(StoreFailures.IsGrainStorageUnavailable(received));
    }

    private static Exception RoundTrip(Exception exception)
    {
        var configuration = new ConfigurationBuilder().Build();
        using var silo = Build(b => b.UseOrleans(s => s.UseLocalhostClustering().ConfigureSessionRecGrains(configuration, Redis)));
        using var client = Build(b => b.UseOrleansClient(c => c.ConfigureSessionRecClient(configuration, Redis)));
        var bytes = silo.Services.GetRequiredService<Serializer>().SerializeToArray(exception);
        return client.Services.GetRequiredService<Serializer>().Deserialize<Exception>(bytes)!;
    }

    private static IHost Build(Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        configure(builder);
        return builder.Build();
    }

    // Thrown, so that it carries a stack trace as a real failure does.
    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
