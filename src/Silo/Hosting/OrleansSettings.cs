namespace SessionRec.Silo.Hosting;

using Microsoft.Extensions.Configuration;

/// <summary>
/// The <c>Orleans</c> section: how a process joins the cluster. Read once at start-up, before the host's services
/// exist (the silo and client builders need it), so it is bound from configuration directly, not through IOptions.
/// </summary>
public sealed class OrleansSettings
{
    public const string SectionName = "Orleans";

    /// <summary>The Redis connection string's name under <c>ConnectionStrings</c> (none: the embedded default).</summary>
    public const string RedisConnectionName = "Redis";

    /// <summary>The API's role: "Silo" (co-host a silo, the default) or "Client" (join a cluster of silo-only processes).</summary>
    public string Role { get; set; } = "Silo";

    /// <summary>The cluster every process of one deployment names.</summary>
    public string ClusterId { get; set; } = SiloHosting.ClusterId;

    /// <summary>The host name or IP a silo advertises to the others (containers); unset: loopback.</summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>Silo-to-silo and client gateway ports (unset in the embedded default: free loopback ports).</summary>
    public int? SiloPort { get; set; }

    public int? GatewayPort { get; set; }

    /// <summary>How long a grain call may take before it fails.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Failure detection (Orleans's ClusterMembershipOptions): a silo that misses <see cref="MissedProbesLimit"/> probes
    /// (timeouts adapt between half of <see cref="ProbeTimeout"/> and <see cref="MaxProbeTimeout"/>) is suspected and,
    /// with enough votes, declared dead and its grains move — unless a message arrived from it within
    /// MaxProbeTimeout × MissedProbesLimit. Orleans's defaults (5 s, 20 s, 3) take ~20 s to declare a hung silo dead;
    /// shorter values fail over sooner and risk declaring dead a silo that was only starved of CPU that long (it then
    /// stops, and is started again). Unset: Orleans's defaults.
    /// </summary>
    public TimeSpan? ProbeTimeout { get; set; }

    public TimeSpan? MaxProbeTimeout { get; set; }

    public int? MissedProbesLimit { get; set; }

    /// <summary>
    /// How often an API joined as a client re-reads the silos' gateways (Orleans's default: 1 minute). A silo that
    /// hangs keeps its connections open, so a client learns it is gone from this list, not from a closed connection.
    /// </summary>
    public TimeSpan? GatewayListRefreshPeriod { get; set; }

    public const int DefaultSiloPort = 11111;

    public const int DefaultGatewayPort = 30000;

    public bool IsClient => string.Equals(Role, "Client", StringComparison.OrdinalIgnoreCase);

    public static OrleansSettings From(IConfiguration configuration) =>
        configuration.GetSection(SectionName).Get<OrleansSettings>() ?? new OrleansSettings();
}
