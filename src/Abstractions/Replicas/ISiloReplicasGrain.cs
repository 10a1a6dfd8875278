namespace SessionRec.Abstractions.Replicas;

/// <summary>
/// One silo's replicas of the tenants' serving state (catalogue, item vectors, statistics snapshot), addressed by
/// the silo it lives on: the key is the silo's address, and the activation is placed on that silo and nowhere else.
/// Writers call every silo's so a change is served everywhere before they answer; replicas also poll, so a silo
/// that missed a call is at most one poll interval behind.
/// </summary>
[Alias("SessionRec.ISiloReplicasGrain")]
public interface ISiloReplicasGrain : IGrainWithStringKey
{
    /// <summary>The tenant's catalogue changed up to <paramref name="version"/>: apply the changes (and their item vectors) now.</summary>
    [Alias("CatalogueChangedAsync")]
    Task CatalogueChangedAsync(string tenant, long version);

    /// <summary>The tenant's statistics builder published: load the newest snapshot now.</summary>
    [Alias("StatisticsPublishedAsync")]
    Task StatisticsPublishedAsync(string tenant);

    /// <summary>The tenant's query log was republished (an erasure): load the newest snapshot now.</summary>
    [Alias("QueryLogPublishedAsync")]
    Task QueryLogPublishedAsync(string tenant);

    /// <summary>The tenant's suggestion blocklist changed: load it now.</summary>
    [Alias("BlocklistChangedAsync")]
    Task BlocklistChangedAsync(string tenant);

    /// <summary>What this silo holds for the tenant's suggestions and how many it served (operations and tests).</summary>
    [Alias("DescribeSuggestionsAsync")]
    Task<SuggestionReplicaDescription> DescribeSuggestionsAsync(string tenant);

    /// <summary>What this silo holds and has served for the tenant (operations and tests: where a tenant is served).</summary>
    [Alias("DescribeAsync")]
    Task<ReplicaDescription> DescribeAsync(string tenant);
}

/// <summary>
/// One silo's replica of one tenant: the silo, the catalogue version and size it holds, the model version of its
/// item vectors (null: none built), the statistics snapshot's log position, how many recommendations it served, and
/// how many times it loaded the catalogue whole and built the item vectors from scratch (a takeover that rebuilt
/// would show here), the rows its approximate index holds (0: none; ranking then scans every item), and how many
/// times it read the item vectors from its own snapshot instead of encoding the catalogue (a restart), and how many
/// first loads read the catalogue from its snapshot instead of the store.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.ReplicaDescription")]
public sealed record ReplicaDescription(
    [property: Id(0)] string Silo,
    [property: Id(1)] long CatalogueVersion,
    [property: Id(2)] int Items,
    [property: Id(3)] string? IndexModelVersion,
    [property: Id(4)] long StatisticsPosition,
    [property: Id(5)] long Served,
    [property: Id(6)] int FullLoads,
    [property: Id(7)] int IndexBuilds,
    [property: Id(8)] int AnnRows,
    [property: Id(9)] int IndexRestores = 0,
    [property: Id(10)] int ItemRestores = 0);

/// <summary>
/// One silo's suggestion replica of one tenant: the entities of its knowledge graph (0: not built here), the log
/// position and size (offered queries) of the query-log snapshot it serves, and how many requests it served.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SuggestionReplicaDescription")]
public sealed record SuggestionReplicaDescription(
    [property: Id(0)] string Silo,
    [property: Id(1)] int GraphEntities,
    [property: Id(2)] long QueryLogPosition,
    [property: Id(3)] int OfferedQueries,
    [property: Id(4)] long Served);
