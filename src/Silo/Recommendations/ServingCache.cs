namespace SessionRec.Silo.Recommendations;

using System.Collections.Concurrent;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Replicas;

/// <summary>
/// What this silo derives from a tenant's replicas once per snapshot rather than per request: the baseline's
/// pipeline and the sources behind a model (per statistics snapshot and items dictionary), and the ranker's
/// per-item lookups (per snapshot and item vectors). Entries are swapped whole; concurrent requests may both
/// compute one, and either result is correct.
/// </summary>
public sealed class ServingCache(Microsoft.Extensions.Options.IOptions<RecommenderOptions> options)
{
    private readonly ConcurrentDictionary<string, Baseline> _baselines = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RankingTables> _tables = new(StringComparer.Ordinal);

    /// <summary>The baseline's pipeline and the sources behind a model, over one statistics snapshot.</summary>
    public sealed record Baseline(
        InteractionStatistics Statistics,
        ConcurrentDictionary<string, CatalogueItem> Items,
        RecommendationPipeline Pipeline,
        ICandidateSource[] ModelFallbacks);

    public Baseline For(string tenant, InteractionStatistics statistics, CatalogueReplica replica)
    {
        var items = replica.Items;
        if (_baselines.TryGetValue(tenant, out var cached) && ReferenceEquals(cached.Statistics, statistics) && ReferenceEquals(cached.Items, items))
        {
            return cached;
        }

        var popularity = new PopularitySource(statistics);
        var built = new Baseline(
            statistics,
            items,
            new RecommendationPipeline(
                [(new CooccurrenceSource(statistics), 1.0), (popularity, options.Value.PopularityWeight)],
                popularity,
                new NewInCatalogueSource(replica)),

            // Behind a model: the baseline's sources, then the newest items, fill what exclusions leave short.
            [new CooccurrenceSource(statistics), popularity, new NewInCatalogueSource(replica)]);
        _baselines[tenant] = built;
        return built;
    }

    /// <summary>
    /// The ranking stage's per-item lookups (<see cref="RankingTables"/>), rebuilt when the snapshot or the index's
    /// rows changed (a 12k-item pass costs ~0.3 ms; per request it would be most of the request).
    /// </summary>
    public RankingTables Tables(string tenant, ItemVectorIndex index, InteractionStatistics statistics)
    {
        if (_tables.TryGetValue(tenant, out var cached) && cached.Describe(index, statistics))
        {
            return cached;
        }

        var built = RankingTables.Build(index, statistics);
        _tables[tenant] = built;
        return built;
    }
}
