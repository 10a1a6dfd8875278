namespace SessionRec.Silo.Knowledge;

using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.Silo.Sessions;
using SessionRec.Silo.Suggestions;

/// <summary>Stored state of <see cref="UserKnowledgeGrain"/>.</summary>
[GenerateSerializer]
[Alias("SessionRec.UserKnowledgeState")]
public sealed class UserKnowledgeState
{
    [Id(0)] public List<KnowledgeRecord> Stream { get; set; } = [];

    [Id(1)] public List<EntityAggregateView> Aggregates { get; set; } = [];

    /// <summary>The highest click-log sequence folded in; later records are replayed on the next read.</summary>
    [Id(2)] public long AppliedThrough { get; set; }

    /// <summary>
    /// The store as <see cref="KnowledgeStateCodec"/> writes it. States written before it hold the store in
    /// <see cref="Stream"/> and <see cref="Aggregates"/> instead, and still read.
    /// </summary>
    [Id(3)] public byte[]? Packed { get; set; }
}

/// <summary>
/// One user's knowledge store (searches → searched; views → viewed; clicks and carts → clicked; purchases →
/// bought), linked to entities by this silo's <see cref="SuggestionReplicas"/>. Records are folded as they arrive
/// (the session grain hands them over, its replay at activation too); a hand-over that does not follow the last
/// folded record, or a request that knows of later records, reads the user's records from the click log instead,
/// so the store is current whenever it is used. State is written behind (like the session grain's), and only
/// once enough records were read since it was last written (<see cref="KnowledgeServiceOptions.PersistAfterRecords"/>):
/// the click log holds every record, and the store catches up with those after its stored state when it is next
/// read. Erasure clears the state; the click log's records are erased by the same request, so nothing replays them.
/// </summary>
[CollectionAgeLimit(Minutes = 30)]
public sealed class UserKnowledgeGrain(
    [PersistentState(StorageNames.KnowledgeState, StorageNames.Sessions)] IPersistentState<UserKnowledgeState> state,
    IClickLog clickLog,
    SuggestionReplicas suggestions,
    IOptions<KnowledgeServiceOptions> options,
    IOptions<SessionOptions> sessionOptions,
    TimeProvider time) : Grain, IUserKnowledgeGrain
{
    private const int ReplayBatch = 1_000;

    private UserKnowledge _knowledge = null!;
    private bool _dirty;

    // Records read past the store's last written position (KnowledgeServiceOptions.PersistAfterRecords): folded,
    // or passed over (impressions, events it does not keep) — the next activation reads both again from the log.
    private int _unwritten;

    // The size of the store's last written form: the next is written into a buffer about that large.
    private int _packedSize;
    private IGrainTimer? _persistTimer;

    private string Tenant => TenantKey.Split(this.GetPrimaryKeyString()).Tenant;

    private string UserId => TenantKey.Split(this.GetPrimaryKeyString()).UserId;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _knowledge = state.State.Packed is { } packed
            ? KnowledgeStateCodec.Read(packed, options.Value.ToStoreOptions())
            : KnowledgeMapping.ToStore(new UserKnowledgeView(UserId, state.State.Stream, state.State.Aggregates), options.Value.ToStoreOptions());
        ForgetWrittenForm();

        // No log read here: the session grain's calls say how far the user's log goes (and hand over what it
        // replayed itself), and a read that does not come from it catches up first.
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => PersistAsync();

    public async Task<UserKnowledgeView> GetAsync()
    {
        await CatchUpAsync();
        await PersistIfWriteThroughAsync();
        _knowledge.Trim(time.GetUtcNow());
        return KnowledgeMapping.ToView(UserId, _knowledge);
    }

    public async Task FoldAsync(long after, IReadOnlyList<UserEvent> events, IReadOnlyList<long> sequences)
    {
        if (sequences.Count == 0 || sequences[^1] <= state.State.AppliedThrough)
        {
            return;
        }

        if (after != state.State.AppliedThrough || !await FoldAsync(events, sequences))
        {
            // A record between the last folded one and these was not handed over (or the graph is not built yet):
            // the log has them all, in order.
            await CatchUpAsync();
        }

        await PersistIfWriteThroughAsync();
    }

    public async Task<SuggestionList> SuggestAsync(SuggestionRequest request, long appliedThrough)
    {
        if (appliedThrough > state.State.AppliedThrough)
        {
            await CatchUpAsync();
        }

        return await suggestions.SuggestAsync(Tenant, request, _knowledge);
    }

    public async Task EraseAsync()
    {
        _dirty = false;
        _unwritten = 0;
        StopPersisting();
        await state.ClearStateAsync();
        state.State = new UserKnowledgeState();
        _knowledge = new UserKnowledge(options.Value.ToStoreOptions());
        DeactivateOnIdle();
    }

    /// <summary>Folds the user's records after the last folded one from the click log.</summary>
    private async Task CatchUpAsync()
    {
        while (true)
        {
            var records = await clickLog.ReadUserAsync(Tenant, UserId, state.State.AppliedThrough, ReplayBatch);
            if (records.Count == 0 || !await FoldAsync([.. records.Select(r => r.Event)], [.. records.Select(r => r.Sequence)]) || records.Count < ReplayBatch)
            {
                return;
            }
        }
    }

    /// <summary>Folds records in sequence order; false (nothing folded) while the tenant's graph is not built on this silo.</summary>
    private async Task<bool> FoldAsync(IReadOnlyList<UserEvent> events, IReadOnlyList<long> sequences)
    {
        var relevant = new List<UserEvent>();
        var read = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (sequences[i] <= state.State.AppliedThrough)
            {
                continue;
            }

            read++;
            if (Source(events[i].Type) is not null && (events[i].ItemId is not null || !string.IsNullOrWhiteSpace(events[i].Query)))
            {
                relevant.Add(events[i]);
            }
        }

        if (relevant.Count > 0)
        {
            var linked = await suggestions.LinkAsync(Tenant, [.. relevant.Select(e => e.Type == EventType.Search ? new LinkInput(null, e.Query) : new LinkInput(e.ItemId, null))]);
            if (linked is null)
            {
                return false;
            }

            for (var i = 0; i < relevant.Count; i++)
            {
                var e = relevant[i];
                _knowledge.Add(new MemoryRecord(e.Timestamp, Source(e.Type)!.Value, linked[i].Text, e.Type == EventType.Search ? null : e.ItemId, linked[i].Entities));
            }
        }

        // Records passed over count too: a user shown many lists and asking for suggestions now and then would
        // otherwise never have the store written, and every activation would read all the impressions since.
        _unwritten += read;
        state.State.AppliedThrough = Math.Max(state.State.AppliedThrough, sequences[^1]);
        _dirty = true;

        // The write-behind timer runs only while enough is unwritten (an idle store takes no turns).
        var interval = sessionOptions.Value.PersistInterval;
        if (_persistTimer is null && interval > TimeSpan.Zero && WorthWriting)
        {
            _persistTimer = this.RegisterGrainTimer(static (grain, _) => grain.PersistAsync(), this, new GrainTimerCreationOptions(interval, interval) { KeepAlive = false });
        }

        return true;
    }

    // PersistInterval 0 (tests, and operators who want it) writes on every change, as the session grain does.
    private Task PersistIfWriteThroughAsync() => sessionOptions.Value.PersistInterval == TimeSpan.Zero ? PersistAsync() : Task.CompletedTask;

    // A store a few records behind its last written form is cheaper to rebuild from the log than to write (unless
    // the operator asked for a write on every change: PersistInterval 0).
    private bool WorthWriting => _unwritten >= options.Value.PersistAfterRecords || sessionOptions.Value.PersistInterval == TimeSpan.Zero;

    private void StopPersisting()
    {
        _persistTimer?.Dispose();
        _persistTimer = null;
    }

    private async Task PersistAsync()
    {
        if (!_dirty || !WorthWriting)
        {
            return;
        }

        _knowledge.Trim(time.GetUtcNow());
        state.State.Stream = [];
        state.State.Aggregates = [];
        state.State.Packed = KnowledgeStateCodec.Write(_knowledge, _packedSize);
        _packedSize = state.State.Packed.Length;
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            ForgetWrittenForm();
        }

        _dirty = false;
        _unwritten = 0;
        StopPersisting();
    }

    /// <summary>
    /// The store lives in <see cref="_knowledge"/>; its written form is made for a write and dropped after it (kept,
    /// it doubled every active store's memory: measured, ~120 KB of a bench user's ~360 KB).
    /// </summary>
    private void ForgetWrittenForm()
    {
        state.State.Stream = [];
        state.State.Aggregates = [];
        state.State.Packed = null;
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
