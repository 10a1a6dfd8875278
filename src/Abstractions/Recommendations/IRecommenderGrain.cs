namespace SessionRec.Abstractions.Recommendations;

using Orleans.Concurrency;

/// <summary>
/// Recommendations for one tenant, served in the caller's silo (a stateless worker: as many activations per silo as
/// it has cores, none shared between silos) from that silo's replicas of the catalogue, the item vectors and the
/// statistics snapshot. Nothing on its path reads the click log or waits for another silo.
/// </summary>
[Alias("SessionRec.IRecommenderGrain")]
public interface IRecommenderGrain : IGrainWithStringKey
{
    [Alias("RecommendAsync")]
    Task<RecommendationList> RecommendAsync(RecommendationRequest request);
}
