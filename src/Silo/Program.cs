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
        var builder = Host.CreateApplicationBuilder(SettingsFilesRead.Once(args));
        var redis = builder.Configuration.GetConnectionString(OrleansSettings.RedisConnectionName)
            ?? throw new InvalidOperationException("A silo-only host needs ConnectionStrings:Redis (the cluster's Redis).");
        var settings = OrleansSettings.From(builder.Configuration);
        var siloPort = settings.SiloPort ?? OrleansSettings.DefaultSiloPort;
        var gatewayPort = settings.GatewayPort ?? OrleansSettings.DefaultGatewayPort;

        builder.AddServiceDefaults();
        builder.Services.AddSessionRecStorage(redis);
        builder.UseOrleans(silo => silo.ConfigureSessionRecSilo(builder.Configuration, redis, localhostClustering: false, siloPort, gatewayPort));

        await builder.Build().RunAsync();
    }
}
