namespace SessionRec.Silo.Storage;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

/// <summary>
/// Lets the store's exceptions cross a grain call. Orleans serializes only exceptions of the namespaces it is told
/// of (by default Microsoft, System and Azure): a Redis error thrown in a silo (a session grain replaying the log as
/// it activates while the store restarts) could not be sent back, so the API would get an error it cannot classify
/// and answer 500 instead of 503 (found while tracing a 500 of the CI chaos test, whose own cause was elsewhere; see
/// <see cref="StoreFailures.IsUnavailable"/>). Silos and API clients both need it: one serializes, the other constructs.
/// </summary>
public static class StoreExceptionSerialization
{
    // The Redis client's exceptions, and those of its socket layer (a reset connection surfaces as its own).
    private static readonly string[] Namespaces = ["StackExchange.Redis", "Pipelines.Sockets.Unofficial"];

    public static IServiceCollection AddStoreExceptionSerialization(this IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.UnionWith(Namespaces));
}
