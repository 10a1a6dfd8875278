namespace SessionRec.Silo.Recommendations;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Replicas;
using SessionRec.Silo.Serving;
using SessionRec.Silo.Statistics;

/// <summary>
/// Recommendations in this silo, ranked over this silo's replicas: the catalogue and item vectors
/// (<see cref="CatalogueReplicas"/>) and the statistics snapshot (<see cref="StatisticsReplicas"/>). A per-silo
/// service that a user's session grain calls in its own turn (no grain message per request), so every silo adds
/// capacity and no request crosses silos. It holds no state of its own and takes no lock: many requests rank side by
/// side; the multi-round state comes with the request and goes back with the answer (the session grain keeps it).
/// </summary>
public sealed class Recommender(
    CatalogueReplicas catalogue,
    StatisticsReplicas statistics,
    ServingCache cache,
    ModelRegistry models,
    SessionEncoderService encoder,
    IOptions<RecommenderOptions> options)
{
    /// <summary>How long a request waits for item vectors being built (a new model or a new silo) before the baseline answers.</summary>
    public static readonly TimeSpan IndexWait = TimeSpan.FromSeconds(2);

    private readonly RecommenderOptions _options = options.Value;

    public async Task<RecommendationList> RecommendAsync(string tenant, RecommendationRequest request)
    {
        var replica = await catalogue.GetAsync(tenant);
        replica.CountServed();
        var items = replica.Items;
        var exclude = new HashSet<string>(request.Exclude, StringComparer.Ordinal);
        if (_options.ExcludeSessionItems)
        {
            exclude.UnionWith(request.SessionItems);
        }

        if (request.ContextItem is not null)
        {
            exclude.Add(request.ContextItem);
        }

        var sessionKey = SessionKey(request);

        // A "more" request does not show again what earlier pages showed; its rounds still mask only earlier rounds'
        // items and the exclusions, as in training.
        var shownBefore = request.Continue is { } previous && previous.SessionKey == sessionKey
            ? new HashSet<string>(previous.Shown, StringComparer.Ordinal)
            : [];
        bool IsExcluded(string itemId) => exclude.Contains(itemId) || !items.TryGetValue(itemId, out var item) || !item.Available;

        var query = new CandidateQuery(request.SessionItems, request.ContextItem, request.K);
        var baseline = cache.For(tenant, await statistics.GetAsync(tenant), replica);
        var served = await ModelPipelineAsync(tenant, replica, query, request, sessionKey, IsExcluded, baseline);
        var (pipeline, version, rounds) = served ?? (baseline.Pipeline, RecommendationLimits.BaselineModelVersion, null);

        // In the calling grain's turn: requests of different users rank side by side.
        var ranked = pipeline.Recommend(query, id => IsExcluded(id) || (rounds is { Continued: true } && shownBefore.Contains(id)));

        var list = new List<RecommendedItem>(ranked.Count);
        foreach (var r in ranked)
        {
            int? round = rounds is not null && rounds.RoundOf.TryGetValue(r.ItemId, out var found) ? found : null;
            list.Add(new RecommendedItem(r.ItemId, Math.Round(r.Score, 6), r.Source, r.Reason, round));
        }

        if (rounds is null)
        {
            return new RecommendationList(version, list);
        }

        var shown = (rounds.Continued ? request.Continue!.Shown : []).Concat(list.Select(i => i.ItemId)).ToList();
        return new RecommendationList(version, list, rounds.State with { Shown = shown }, rounds.Continued);
    }

    /// <summary>Identifies the session a round state belongs to: the same items and context continue it, anything new starts over.</summary>
    private static string SessionKey(RecommendationRequest request)
    {
        var text = string.Join('\u001f', request.SessionItems) + '\u001e' + request.ContextItem;
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
    }

    /// <summary>
    /// The ranking stage of the tenant's active model for this session, or null (baseline) when no model is active,
    /// its item vectors are not ready, or the model knows none of the session's items. The session encoder runs in
    /// <see cref="SessionEncoderService"/>. With multi-round retrieval (the model has a round encoder and the request
    /// asks for rounds), the rounds run first and their items join the ranking with the model's multi-round weight,
    /// each labelled with its round.
    /// </summary>
    private async Task<(RecommendationPipeline, string, RoundOutcome?)?> ModelPipelineAsync(string tenant, CatalogueReplica replica, CandidateQuery query, RecommendationRequest request, string sessionKey, Func<string, bool> isExcluded, ServingCache.Baseline baseline)
    {
        if (models.Active(tenant) is not { } model || await catalogue.IndexAsync(replica, model, IndexWait) is not { } index)
        {
            return null;
        }

        IReadOnlyList<string> session = query.ContextItem is null ? query.SessionItems : [.. query.SessionItems.Where(i => i != query.ContextItem), query.ContextItem];
        if (index.SessionInput(session, model.Manifest.MaxLength, out var length) is not { } input)
        {
            return null;
        }

        EncodedSession first;
        RoundOutcome? rounds = null;
        try
        {
            first = await encoder.EncodeWithUserAsync(model, input, length);
            if (model.MultiRound is { } settings && request.Rounds != 0)
            {
                rounds = RunRounds(model, settings, index, input, length, first, request, sessionKey, isExcluded);
            }
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException or ArgumentException or InvalidOperationException)
        {
            // The model failed for this session (logged by the encoder): the baseline answers rather than an error.
            return null;
        }

        var weights = model.Manifest.Fusion;
        ICandidateSource source;
        if (weights is null && rounds is not null)
        {
            // A model without a ranking stage serves the rounds' lists as they are (this request's rounds, in order).
            source = new RetrievedListSource([.. rounds.State.Retrieved.Select(id => (id, rounds.RoundOf[id])).Where(e => e.Item2 > rounds.FirstNewRound)]);
        }
        else
        {
            weights ??= new FusionWeights(0, 0);
            Dictionary<int, int>? rows = null;
            if (rounds is not null)
            {
                rows = [];
                foreach (var (id, round) in rounds.RoundOf)
                {
                    if (index.TryGetRow(id, out var row))
                    {
                        rows[row] = round;
                    }
                }
            }

            source = new ModelRankerSource(index, first.Session, baseline.Statistics, weights, cache.Tables(tenant, index, baseline.Statistics), rounds: rows, trainedRounds: model.MultiRound?.Rounds ?? 1, sessionScores: rounds?.FirstRoundScores, annCandidates: _options.AnnCandidates);
        }

        return (new RecommendationPipeline([(source, 1.0)], baseline.ModelFallbacks), model.Version, rounds);
    }

    /// <summary>
    /// Multi-round retrieval (Ada-Retrieval, <see cref="MultiRoundRetrieval"/>) for this request: a request that
    /// continues a state of the same model and session runs the rounds after it; anything else starts at round 1.
    /// </summary>
    private static RoundOutcome RunRounds(OnnxRecommenderModel model, MultiRoundSettings settings, ItemVectorIndex index, float[] input, int length, EncodedSession first, RecommendationRequest request, string sessionKey, Func<string, bool> isExcluded)
    {
        var previous = request.Continue;
        var continuing = previous is not null && previous.ModelVersion == model.Version && previous.SessionKey == sessionKey
            && previous.Rounds > 0 && previous.Retrieved.Count == previous.Rounds * settings.PerRound
            && previous.User.Length == model.Dim && previous.GruState.Length == model.Dim
            && previous.Retrieved.All(id => index.TryGetRow(id, out _));
        var from = continuing ? new MultiRoundRetrieval.Start(previous!.Retrieved, previous.Rounds, previous.User, previous.GruState) : MultiRoundRetrieval.Start.Fresh(first.User);
        var wanted = request.Rounds < 0 ? settings.Rounds : request.Rounds;
        var result = MultiRoundRetrieval.Run(model, settings, index, input, length, first.Session, from, Math.Min(wanted, RecommendationLimits.MaxRoundsPerRequest), isExcluded);
        var retrieved = result.Retrieved;
        var roundOf = new Dictionary<string, int>(retrieved.Count, StringComparer.Ordinal);
        for (var p = 0; p < retrieved.Count; p++)
        {
            roundOf[retrieved[p]] = (p / settings.PerRound) + 1;
        }

        var firstNew = continuing ? previous!.Rounds : 0;
        return new RoundOutcome(new RoundState(model.Version, sessionKey, result.Rounds, result.User, result.GruState, retrieved, []), roundOf, continuing, firstNew, result.FirstRoundScores);
    }

    /// <summary>
    /// A request's multi-round retrieval: the state after it, each retrieved item's round, the last round run before
    /// it, and round 1's scores when this request ran round 1.
    /// </summary>
    private sealed record RoundOutcome(RoundState State, IReadOnlyDictionary<string, int> RoundOf, bool Continued, int FirstNewRound, float[]? FirstRoundScores);
}
