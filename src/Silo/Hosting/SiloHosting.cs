namespace SessionRec.Silo.Hosting;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using SessionRec.Abstractions;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Serving;
using SessionRec.Silo.Sessions;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>How every SessionRec host (silo-only, API co-hosting, tests) sets up Orleans and storage.</summary>
public static class SiloHosting
{
    public const string ClusterId = "sessionrec";
    public const string ServiceId = "sessionrec";

    /// <summary>
    /// Services both silos and API clients use: the shared Redis connection, the click log and the catalogue store.
    /// </summary>
    public static IServiceCollection AddSessionRecStorage(this IServiceCollection services, string redisConnectionString)
    {
        services.AddSingleton<IConnectionMultiplexer>(_ => StoreConnections.Connect(redisConnectionString));
        services.TryAddSingleton<IWriteBarrier, ServerPolicyBarrier>();
        services.AddOptions<ClickLogOptions>().BindConfiguration(ClickLogOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IClickLog, RedisClickLog>();
        services.AddSingleton<RedisCatalogueStore>();
        services.AddSingleton<Knowledge.SuggestionBlocklistStore>();
        services.AddSingleton<Snapshots.SnapshotStore>();
        services.AddSingleton<Statistics.StatisticsSnapshotStore>();
        services.AddSingleton<Analytics.AnalyticsStore>();
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    public static TimeSpan ResponseTimeout(IConfiguration configuration) => OrleansSettings.From(configuration).ResponseTimeout;

    /// <summary>An API process that is only a client of a silo cluster: it finds the silos through Redis.</summary>
    public static IClientBuilder ConfigureSessionRecClient(this IClientBuilder client, IConfiguration configuration, string redisConnectionString)
    {
        if (ServiceDefaults.ServiceDefaultsExtensions.TracesExported(configuration))
        {
            client.AddActivityPropagation();
        }

        var settings = OrleansSettings.From(configuration);
        client.Services.AddStoreExceptionSerialization();
        return client
            .UseRedisClustering(redisConnectionString)
            .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = settings.ResponseTimeout)
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = settings.GatewayListRefreshPeriod ?? o.GatewayListRefreshPeriod)
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = ServiceId;
            });
    }

    /// <summary>Grain options, grain storage and (unless <paramref name="localhostClustering"/>) Redis clustering.</summary>
    public static ISiloBuilder ConfigureSessionRecSilo(
        this ISiloBuilder silo,
        IConfiguration configuration,
        string redisConnectionString,
        bool localhostClustering,
        int siloPort = OrleansSettings.DefaultSiloPort,
        int gatewayPort = OrleansSettings.DefaultGatewayPort)
    {
        var settings = OrleansSettings.From(configuration);
        var clusterId = settings.ClusterId;
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = ServiceId;
        });

        if (localhostClustering)
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId, clusterId: clusterId);
        }
        else
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redisConnectionString));

            // On one machine silos talk over loopback; in containers each advertises its own host name or IP.
            var advertised = settings.AdvertisedHost;
            if (string.IsNullOrWhiteSpace(advertised))
            {
                silo.ConfigureEndpoints(System.Net.IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false);
            }
            else
            {
                silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, System.Net.Sockets.AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
            }
        }

        return silo.ConfigureSessionRecGrains(configuration, redisConnectionString);
    }

    /// <summary>Grain options and grain storage: everything but clustering (which test hosts bring themselves).</summary>
    public static ISiloBuilder ConfigureSessionRecGrains(this ISiloBuilder silo, IConfiguration configuration, string redisConnectionString)
    {
        // ONNX Runtime reads this when it loads; the service never phones home.
        Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");

        // Traces follow a request from the API into grains when traces are exported (as the service defaults record
        // them). Without an exporter the propagation filters would still run on every grain call: measured, the two
        // calls of a suggestion request spent ~3% of its CPU in them.
        if (ServiceDefaults.ServiceDefaultsExtensions.TracesExported(configuration))
        {
            silo.AddActivityPropagation();
        }

        silo.Services.AddStoreExceptionSerialization();

        // A call to a grain on a silo that died fails after this long (then 503 + Retry-After), not Orleans' 30 s.
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = ResponseTimeout(configuration));
        var settings = OrleansSettings.From(configuration);
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            if (settings.ProbeTimeout is { } probe)
            {
                o.ProbeTimeout = probe;
                o.MinProbeTimeout = probe / 2;
                o.MaxProbeTimeout = probe * 4;
            }

            o.MaxProbeTimeout = settings.MaxProbeTimeout ?? o.MaxProbeTimeout;
            o.NumMissedProbesLimit = settings.MissedProbesLimit ?? o.NumMissedProbesLimit;
        });

        silo.Services.AddOptions<SessionOptions>()
            .Bind(configuration.GetSection(SessionOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        silo.Services.AddOptions<RecommenderOptions>()
            .Bind(configuration.GetSection(RecommenderOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        silo.Services.AddOptions<ModelOptions>()
            .Bind(configuration.GetSection(ModelOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        silo.Services.AddSingleton<ClickLogArchive>();
        silo.Services.AddSingleton<ClickLogRetention>();
        silo.Services.AddOptions<Analytics.AnalyticsOptions>()
            .Bind(configuration.GetSection(Analytics.AnalyticsOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        silo.Services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.SectionName));
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<ModelRegistry>();
        silo.Services.AddSingleton<SessionEncoderService>();
        silo.Services.AddSingleton<Statistics.StatisticsReplicas>();
        silo.Services.AddSingleton<Suggestions.QueryLogReplicas>();
        silo.Services.AddSingleton<Suggestions.SuggestionReplicas>();
        silo.Services.AddSingleton<Replicas.ItemVectorSnapshots>();
        silo.Services.AddSingleton<Replicas.CatalogueSnapshots>();
        silo.Services.AddSingleton<Replicas.CatalogueReplicas>();
        silo.Services.AddSingleton<Replicas.ReplicaFanOut>();
        silo.Services.AddSingleton<Recommendations.ServingCache>();
        silo.Services.AddSingleton<Recommendations.Recommender>();
        silo.Services.AddPlacementDirector<Replicas.SiloPinnedPlacement, Replicas.SiloPinnedPlacementDirector>();
        silo.Services.AddOptions<Knowledge.KnowledgeServiceOptions>().BindConfiguration(Knowledge.KnowledgeServiceOptions.SectionName).ValidateDataAnnotations();
        silo.Services.TryAddSingleton<Knowledge.SemanticEncoder>();
        silo.Services.AddHostedService<Knowledge.SemanticEncoderWarmUp>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<SessionEncoderService>());
        silo.Services.AddSingleton<Recommendations.ServingWarmUp>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<Recommendations.ServingWarmUp>());

        silo.Services.AddGrainStorage(StorageNames.Sessions, (sp, name) => new StringGrainStorage(
            name,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            redisConnectionString,
            // Orleans' own serializer: the [Id]-numbered, version-tolerant format of the wire types.
            ActivatorUtilities.CreateInstance<OrleansGrainStorageSerializer>(sp),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<StringGrainStorage>>()));

        return silo;
    }
}
