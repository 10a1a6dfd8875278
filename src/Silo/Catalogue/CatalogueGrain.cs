namespace SessionRec.Silo.Catalogue;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Abstractions.Statistics;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Models.Baseline;
using SessionRec.Models.Data;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;
using SessionRec.Silo.Serving;
using SessionRec.Silo.Statistics;

/// <summary>
/// A tenant's catalogue (write-through to <see cref="RedisCatalogueStore"/>) and its recommendations, ranked over
/// this silo's replica of the tenant's statistics snapshot (<see cref="StatisticsReplicas"/>, published by the
/// <see cref="StatisticsBuilderGrain"/>), loaded on the first recommendation: it never replays the click log.
/// </summary>
public sealed class CatalogueGrain(
    RedisCatalogueStore store,
    StatisticsReplicas statistics,
    ModelRegistry models,
    SessionEncoderService encoder,
    IOptions<RecommenderOptions> options) : Grain, ICatalogueGrain
{
    private readonly Dictionary<string, CatalogueItem> _items = new(StringComparer.Ordinal);
    private readonly RecommenderOptions _options = options.Value;
    private Baseline? _baseline;
    private Task<ItemVectorIndex>? _index;
    private (ItemVectorIndex? Index, InteractionStatistics? Statistics, int Rows, float[] Values) _prior = (null, null, 0, []);

    private string Tenant => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await foreach (var item in store.LoadAllAsync(Tenant).WithCancellation(cancellationToken))
        {
            _items[item.Id] = item;
        }
    }

    /// <summary>The baseline's pipeline and the sources behind a model, over one statistics snapshot.</summary>
    private sealed record Baseline(InteractionStatistics Statistics, RecommendationPipeline Pipeline, ICandidateSource[] ModelFallbacks);

    private Baseline Build(InteractionStatistics snapshot)
    {
        var popularity = new PopularitySource(snapshot);
        return new Baseline(
            snapshot,
            new RecommendationPipeline(
                [(new CooccurrenceSource(snapshot), 1.0), (popularity, _options.PopularityWeight)],
                popularity,
                new NewInCatalogueSource(_items)),

            // Behind a model: the baseline's sources, then the newest items, fill what exclusions leave short.
            [new CooccurrenceSource(snapshot), popularity, new NewInCatalogueSource(_items)]);
    }

    /// <summary>The pipeline over this silo's newest snapshot, rebuilt when a newer one arrived (swapped whole: requests interleave).</summary>
    private async ValueTask<Baseline> CurrentBaselineAsync()
    {
        var snapshot = await statistics.GetAsync(Tenant);
        var baseline = _baseline;
        if (baseline is null || !ReferenceEquals(baseline.Statistics, snapshot))
        {
            baseline = Build(snapshot);
            _baseline = baseline;
        }

        return baseline;
    }

    public async Task<int> UpsertAsync(IReadOnlyList<CatalogueItem> items)
    {
        await store.SaveAsync(Tenant, items);
        foreach (var item in items)
        {
            _items[item.Id] = item;
        }

        // The tenant's knowledge graph follows the catalogue.
        _ = GrainFactory.GetGrain<Abstractions.Knowledge.ISuggestionGrain>(Tenant).ItemsChangedAsync(items);

        // Item vectors come from metadata: a new or changed item is scoreable now, without retraining.
        if (_index is { IsCompletedSuccessfully: true } built && models.Active(Tenant) is { } model && built.Result.ModelVersion == model.Version)
        {
            try
            {
                var vectors = await Task.Run(() => model.EncodeItems([.. items.Select(ToModelItem)]));
                built.Result.Set([.. items.Select(i => i.Id)], vectors);
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException)
            {
                // The items are stored; the index is rebuilt from the catalogue on the next recommendation.
                _index = null;
            }
        }
        else if (_index is { IsCompleted: false })
        {
            // A build from an older snapshot is running: start over so these items are in it.
            _index = null;
        }

        return items.Count;
    }

    public Task<CatalogueItem?> GetAsync(string itemId) =>
        Task.FromResult(_items.GetValueOrDefault(itemId));

    public async Task<bool> DeleteAsync(string itemId)
    {
        var removed = await store.DeleteAsync(Tenant, itemId);
        _ = GrainFactory.GetGrain<Abstractions.Knowledge.ISuggestionGrain>(Tenant).ItemRemovedAsync(itemId);
        return _items.Remove(itemId) || removed;
    }

    public Task<int> CountAsync() => Task.FromResult(_items.Count);

    public async Task<long> CatchUpAsync()
    {
        var position = await GrainFactory.GetGrain<IStatisticsBuilderGrain>(Tenant).CatchUpAsync();
        await statistics.RefreshAsync(Tenant);
        return position;
    }

    public async Task<RecommendationList> RecommendAsync(RecommendationRequest request)
    {
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
        bool IsExcluded(string itemId) => exclude.Contains(itemId) || !_items.TryGetValue(itemId, out var item) || !item.Available;

        var query = new CandidateQuery(request.SessionItems, request.ContextItem, request.K);
        var baseline = await CurrentBaselineAsync();
        var served = await ModelPipelineAsync(query, request, sessionKey, IsExcluded, baseline);
        var (pipeline, version, rounds) = served ?? (baseline.Pipeline, RecommendationLimits.BaselineModelVersion, null);
        // Off the grain's scheduler: one catalogue grain serves all of a tenant's recommendations, and its turns run
        // one at a time, so ranking inside the turn would use one core however many requests wait. RecommendAsync
        // is [ReadOnly]: Orleans holds back every call that changes this grain's state (upserts, catching up with
        // the log) while one runs, so the ranking reads state nobody writes, and other requests interleave.
        var ranked = await Task.Run(() => pipeline.Recommend(query, id => IsExcluded(id) || (rounds is { Continued: true } && shownBefore.Contains(id))));

        var items = new List<RecommendedItem>(ranked.Count);
        foreach (var r in ranked)
        {
            int? round = rounds is not null && rounds.RoundOf.TryGetValue(r.ItemId, out var found) ? found : null;
            items.Add(new RecommendedItem(r.ItemId, Math.Round(r.Score, 6), r.Source, r.Reason, round));
        }

        if (rounds is null)
        {
            return new RecommendationList(version, items);
        }

        var shown = (rounds.Continued ? request.Continue!.Shown : []).Concat(items.Select(i => i.ItemId)).ToList();
        return new RecommendationList(version, items, rounds.State with { Shown = shown }, rounds.Continued);
    }

    /// <summary>Identifies the session a round state belongs to: the same items and context continue it, anything new starts over.</summary>
    private static string SessionKey(RecommendationRequest request)
    {
        var text = string.Join('\u001f', request.SessionItems) + '\u001e' + request.ContextItem;
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)).AsSpan(0, 12));
    }

    /// <summary>
    /// The ranking stage of the tenant's active model for this session, or null (baseline) when no model is active
    /// or the model knows none of the session's items. The session encoder runs in <see cref="SessionEncoderService"/>.
    /// With multi-round retrieval (the model has a round encoder and the request asks for rounds), the rounds run
    /// first and their items join the ranking with the model's multi-round weight, each labelled with its round.
    /// </summary>
    private async Task<(RecommendationPipeline, string, RoundOutcome?)?> ModelPipelineAsync(CandidateQuery query, RecommendationRequest request, string sessionKey, Func<string, bool> isExcluded, Baseline baseline)
    {
        if (models.Active(Tenant) is not { } model)
        {
            _index = null;
            return null;
        }

        if (_index is null || (_index.IsCompletedSuccessfully && _index.Result.ModelVersion != model.Version) || _index.IsFaulted)
        {
            var snapshot = _items.Values.Select(ToModelItem).ToList();
            _index = Task.Run(() =>
            {
                var index = new ItemVectorIndex(model.Version, model.Dim, model.Manifest.Scoring == "cosine");
                index.Set([.. snapshot.Select(i => i.Id)], model.EncodeItems(snapshot));
                return index;
            });
        }

        ItemVectorIndex index;
        try
        {
            index = await _index;
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException)
        {
            // The item encoder failed; the next request tries again, this one gets the baseline.
            return null;
        }

        if (index.ModelVersion != model.Version)
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
                // On the thread pool, as the ranking is (see RecommendAsync).
                rounds = await Task.Run(() => RunRounds(model, settings, index, input, length, first, request, sessionKey, isExcluded));
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

            source = new ModelRankerSource(index, first.Session, baseline.Statistics, weights, weights.Popularity == 0 && weights.NewItem == 0 ? null : PopularityPrior(index, baseline.Statistics), rounds: rows, trainedRounds: model.MultiRound?.Rounds ?? 1, sessionScores: rounds?.FirstRoundScores);
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

    /// <summary>
    /// log(1 + interactions) per index row, computed once per statistics snapshot and index size (a 12k-item pass
    /// costs ~0.3 ms; per request it would be most of the request).
    /// </summary>
    private float[] PopularityPrior(ItemVectorIndex index, InteractionStatistics snapshot)
    {
        var prior = _prior;
        if (!ReferenceEquals(prior.Index, index) || !ReferenceEquals(prior.Statistics, snapshot) || prior.Rows != index.Count)
        {
            prior = (index, snapshot, index.Count, ModelRankerSource.PopularityPrior(index, snapshot));
            _prior = prior;
        }

        return prior.Values;
    }

    private static ImportItem ToModelItem(CatalogueItem item) =>
        new(item.Id, item.Title, item.Brand, item.Categories, item.Attributes, item.Price);

    /// <summary>
    /// The most recently added or updated items: the last fallback, for a tenant whose catalogue has no
    /// interactions yet. A scan of the catalogue (~50 µs for 12k items), run only when everything else came up short.
    /// </summary>
    private sealed class NewInCatalogueSource(Dictionary<string, CatalogueItem> items) : ICandidateSource
    {
        public const string SourceName = "new-in-catalogue";

        public string Name => SourceName;

        public void Collect(CandidateQuery query, int limit, List<Candidate> into)
        {
            var newest = new PriorityQueue<CatalogueItem, (long Ticks, string Id)>(limit + 1);
            foreach (var item in items.Values)
            {
                if (!item.Available)
                {
                    continue;
                }

                newest.Enqueue(item, (item.UpdatedAt.UtcTicks, item.Id));
                if (newest.Count > limit)
                {
                    newest.Dequeue();
                }
            }

            var picked = new List<CatalogueItem>(newest.Count);
            while (newest.TryDequeue(out var item, out _))
            {
                picked.Add(item);
            }

            for (var i = picked.Count - 1; i >= 0; i--)
            {
                // Newer first, with scores that keep that order after scaling.
                into.Add(new Candidate(picked[i].Id, (double)(i + 1) / picked.Count, "new in the catalogue"));
            }
        }
    }
}
