namespace SessionRec.Silo.Storage;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

/// <summary>
/// Lets the store's exceptions cross a grain call. Orleans serializes only exceptions of the namespaces it is told
/// of (by default Microsoft, System and Azure): a Redis error thrown in a silo (a session grain replaying the log as
/// it activates while the store restarts) could not be sent back, so the API got an error it could not classify and
/// answered 500 instead of 503 (seen once in the CI chaos test). Silos and API clients both need it: one serializes,
/// the other constructs.
/// </summary>
public static class StoreExceptionSerialization
{
    // The Redis client's exceptions, and those of its socket layer (a reset connection surfaces as its own).
    private static readonly string[] Namespaces = ["StackExchange.Redis", "Pipelines.Sockets.Unofficial"];

    public static IServiceCollection AddStoreExceptionSerialization(this IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.UnionWith(Namespaces));
}
