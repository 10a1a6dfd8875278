namespace SessionRec.Silo.Replicas;

using Orleans.Concurrency;
using SessionRec.Abstractions.Replicas;
using SessionRec.Silo.Statistics;
using SessionRec.Silo.Suggestions;

/// <summary>
/// The door to this silo's replicas (<see cref="CatalogueReplicas"/>, <see cref="StatisticsReplicas"/>,
/// <see cref="SuggestionReplicas"/>): one
/// activation per silo, pinned to it by <see cref="SiloPinnedPlacement"/>. Reentrant: tenants refresh side by side.
/// </summary>
[SiloPinnedPlacement, Reentrant]
public sealed class SiloReplicasGrain(CatalogueReplicas catalogue, StatisticsReplicas statistics, SuggestionReplicas suggestions, ILocalSiloDetails silo) : Grain, ISiloReplicasGrain
{
    public Task QueryLogPublishedAsync(string tenant) => suggestions.QueryLogPublishedAsync(tenant);

    public Task BlocklistChangedAsync(string tenant) => suggestions.BlocklistChangedAsync(tenant);

    public Task<SuggestionReplicaDescription> DescribeSuggestionsAsync(string tenant)
    {
        var (entities, position, offered, served) = suggestions.Describe(tenant);
        return Task.FromResult(new SuggestionReplicaDescription(silo.SiloAddress.ToParsableString(), entities, position, offered, served));
    }

    public Task CatalogueChangedAsync(string tenant, long version) => catalogue.CatchUpAsync(tenant, version);

    public Task StatisticsPublishedAsync(string tenant) => statistics.RefreshAsync(tenant);

    public Task<ReplicaDescription> DescribeAsync(string tenant)
    {
        var replica = catalogue.Find(tenant);
        return Task.FromResult(new ReplicaDescription(
            silo.SiloAddress.ToParsableString(),
            replica?.Version ?? 0,
            replica?.Items.Count ?? 0,
            replica?.Index is { IsCompletedSuccessfully: true } index ? index.Result.ModelVersion : null,
            statistics.PositionOf(tenant),
            replica?.Served ?? 0,
            replica?.FullLoads ?? 0,
            replica?.IndexBuilds ?? 0,
            replica?.Index is { IsCompletedSuccessfully: true } built && built.Result.Ann is { } ann ? ann.Index.Rows : 0,
            replica?.IndexRestores ?? 0,
            replica?.ItemRestores ?? 0));
    }
}
