namespace SessionRec.Silo;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using SessionRec.ServiceDefaults;
using SessionRec.Silo.Hosting;

/// <summary>The silo-only host of a cluster: grains, no HTTP API (the API joins as a client or co-hosts a silo).</summary>
public static class SiloProgram
{
    public static async Task Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        var redis = builder.Configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("A silo-only host needs ConnectionStrings:Redis (the cluster's Redis).");
        var siloPort = builder.Configuration.GetValue("Orleans:SiloPort", 11111);
        var gatewayPort = builder.Configuration.GetValue("Orleans:GatewayPort", 30000);

        builder.AddServiceDefaults();
        builder.Services.AddSessionRecStorage(redis);
        builder.UseOrleans(silo => silo.ConfigureSessionRecSilo(builder.Configuration, redis, localhostClustering: false, siloPort, gatewayPort));

        await builder.Build().RunAsync();
    }
}
