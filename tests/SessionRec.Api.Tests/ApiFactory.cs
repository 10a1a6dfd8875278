namespace SessionRec.Api.Tests;

using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using SessionRec.Silo.Embedded;
using SessionRec.TestSupport;

/// <summary>
/// The API with a co-hosted silo in cluster mode, against a real redis-server: Redis clustering, Redis grain
/// storage, the Redis click log. Two tenants with one key each.
/// </summary>
public sealed class ApiFactory(string redis, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public const string KeyA = "key-tenant-a-0123456789";
    public const string KeyB = "key-tenant-b-0123456789";
    public const string TenantA = "tenant-a";
    public const string TenantB = "tenant-b";
    public const string AdminKey = "admin-key-0123456789";

    public string ClusterId { get; } = "test-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The silo's local data folder (item vector snapshots) unless the settings name one; removed on dispose.</summary>
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sessionrec-api-data-" + Guid.NewGuid().ToString("N")[..8]);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Redis", redis);
        builder.UseSetting("Orleans:ClusterId", ClusterId);
        builder.UseSetting("Orleans:SiloPort", EmbeddedGarnet.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", EmbeddedGarnet.FreeLoopbackPort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Auth:Keys:0:Key", KeyA);
        builder.UseSetting("Auth:Keys:0:Tenant", TenantA);
        builder.UseSetting("Auth:Keys:1:Key", KeyB);
        builder.UseSetting("Auth:Keys:1:Tenant", TenantB);
        builder.UseSetting("Auth:AdminKey", AdminKey);
        builder.UseSetting("Recommendations:TailInterval", "00:00:00.100");
        builder.UseSetting("Recommendations:SnapshotInterval", "00:00:00.200");
        builder.UseSetting("Recommendations:SnapshotPoll", "00:00:00.100");
        builder.UseSetting("Storage:DataPath", _data);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
    }

    public HttpClient ClientFor(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}

/// <summary>One redis-server and one API for a test class.</summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public ApiFactory Factory { get; private set; } = null!;

    public HttpClient A { get; private set; } = null!;

    public HttpClient B { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Factory = new ApiFactory(Redis.ConnectionString);
        A = Factory.ClientFor(ApiFactory.KeyA);
        B = Factory.ClientFor(ApiFactory.KeyB);
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
