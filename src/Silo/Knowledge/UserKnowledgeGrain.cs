namespace SessionRec.Silo.Knowledge;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.KnowledgeStore.Knowledge;

/// <summary>Stored state of <see cref="UserKnowledgeGrain"/>.</summary>
[GenerateSerializer]
[Alias("SessionRec.UserKnowledgeState")]
public sealed class UserKnowledgeState
{
    [Id(0)] public List<KnowledgeRecord> Stream { get; set; } = [];

    [Id(1)] public List<EntityAggregateView> Aggregates { get; set; } = [];

    /// <summary>The highest click-log sequence folded in; later records are replayed on the next read.</summary>
    [Id(2)] public long AppliedThrough { get; set; }
}

/// <summary>
/// One user's knowledge store. The user's click-log records after <see cref="UserKnowledgeState.AppliedThrough"/>
/// are folded in on every read (searches → searched; views → viewed; clicks and carts → clicked; purchases →
/// bought), linked to entities by the tenant's <see cref="ISuggestionGrain"/>: the ingestion path pays nothing,
/// and the store is current whenever it is used. Erasure clears the state; the click log's records are erased
/// by the same request, so nothing replays them.
/// </summary>
[CollectionAgeLimit(Minutes = 30)]
public sealed class UserKnowledgeGrain(
    [PersistentState(StorageNames.KnowledgeState, StorageNames.Sessions)] IPersistentState<UserKnowledgeState> state,
    IClickLog clickLog,
    IOptions<KnowledgeServiceOptions> options,
    TimeProvider time) : Grain, IUserKnowledgeGrain
{
    private const int ReplayBatch = 1_000;

    public async Task<UserKnowledgeView> GetAsync()
    {
        var (tenant, userId) = TenantKey.Split(this.GetPrimaryKeyString());
        var view = new UserKnowledgeView(userId, state.State.Stream, state.State.Aggregates);
        var knowledge = KnowledgeMapping.ToStore(view, options.Value.ToStoreOptions());
        var changed = false;
        while (true)
        {
            var records = await clickLog.ReadUserAsync(tenant, userId, state.State.AppliedThrough, ReplayBatch);
            var relevant = records.Where(r => Source(r.Event.Type) is not null && (r.Event.ItemId is not null || !string.IsNullOrWhiteSpace(r.Event.Query))).ToList();
            if (relevant.Count > 0)
            {
                var descriptions = await GrainFactory.GetGrain<ISuggestionGrain>(tenant).DescribeAsync(
                    [.. relevant.Select(r => r.Event.Type == EventType.Search ? new DescribeInput(null, r.Event.Query) : new DescribeInput(r.Event.ItemId, null))]);
                if (descriptions.Count != relevant.Count)
                {
                    // The tenant's graph is still being built: these records are folded at a later read.
                    break;
                }

                for (var i = 0; i < relevant.Count; i++)
                {
                    var e = relevant[i].Event;
                    knowledge.Add(new MemoryRecord(e.Timestamp, Source(e.Type)!.Value, descriptions[i].Text, e.Type == EventType.Search ? null : e.ItemId,
                        [.. descriptions[i].Entities.Select(x => new EntityMention(x.Id, x.Name))]));
                }
            }

            if (records.Count > 0)
            {
                state.State.AppliedThrough = records[^1].Sequence;
                changed = true;
            }

            if (records.Count < ReplayBatch)
            {
                break;
            }
        }

        knowledge.Trim(time.GetUtcNow());
        var current = KnowledgeMapping.ToView(userId, knowledge);
        if (changed)
        {
            state.State.Stream = [.. current.Stream];
            state.State.Aggregates = [.. current.Aggregates];
            await state.WriteStateAsync();
        }

        return current;
    }

    public async Task EraseAsync()
    {
        await state.ClearStateAsync();
        state.State = new UserKnowledgeState();
        DeactivateOnIdle();
    }

    private static KnowledgeSource? Source(EventType type) => type switch
    {
        EventType.Search => KnowledgeSource.Searched,
        EventType.View => KnowledgeSource.Viewed,
        EventType.Click or EventType.AddToCart => KnowledgeSource.Clicked,
        EventType.Purchase => KnowledgeSource.Bought,
        _ => null,
    };
}
