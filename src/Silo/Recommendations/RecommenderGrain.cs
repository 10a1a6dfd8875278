namespace SessionRec.Silo.Recommendations;

using Orleans.Concurrency;
using SessionRec.Abstractions.Recommendations;

/// <summary>
/// A tenant's recommendations for a caller outside a user's session grain (tools, tests): the silo's
/// <see cref="Recommender"/> behind a stateless worker, so the caller's silo answers from its own replicas. A user's
/// session grain calls the <see cref="Recommender"/> directly.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class RecommenderGrain(Recommender recommender) : Grain, IRecommenderGrain
{
    public Task<RecommendationList> RecommendAsync(RecommendationRequest request) =>
        recommender.RecommendAsync(this.GetPrimaryKeyString(), request);
}
