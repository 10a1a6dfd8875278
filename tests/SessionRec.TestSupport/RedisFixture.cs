namespace SessionRec.TestSupport;

using Xunit;

/// <summary>One redis-server per test class (or collection) that uses it.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public string ConnectionString => Server.ConnectionString;

    public async ValueTask InitializeAsync() => Server = await RedisServer.StartAsync();

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
