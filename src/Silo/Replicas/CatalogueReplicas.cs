namespace SessionRec.Silo.Replicas;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Models.Data;
using SessionRec.Models.Serving;
using SessionRec.Silo.Catalogue;
using SessionRec.Silo.Serving;

/// <summary>
/// This silo's replicas of the tenants' catalogues and item vectors. A replica loads the catalogue whole the first
/// time a tenant is served here, then follows the store's change feed: when a writer says so
/// (<see cref="CatchUpAsync"/>, through this silo's replicas grain) and at most every
/// <see cref="RecommenderOptions.SnapshotPoll"/> while it serves. Item vectors are encoded once per model version
/// (in the background; requests meanwhile get the baseline) and then only for changed items.
/// Memory: per served tenant, the items and one float vector of the model's width per item.
/// </summary>
public sealed partial class CatalogueReplicas(
    RedisCatalogueStore store,
    ModelRegistry models,
    Statistics.StatisticsReplicas statistics,
    ItemVectorSnapshots snapshots,
    CatalogueSnapshots catalogueSnapshots,
    IOptions<RecommenderOptions> options,
    TimeProvider time,
    ILogger<CatalogueReplicas> logger)
{
    /// <summary>A replica further behind than this many changed items reloads the catalogue whole.</summary>
    public const int MaxChangesPerRefresh = 10_000;

    private const int EncodeChunk = 2_048;

    private readonly ConcurrentDictionary<string, CatalogueReplica> _tenants = new(StringComparer.Ordinal);
    private readonly RecommenderOptions _options = options.Value;
    private volatile ICatalogueReplicaObserver[] _observers = [];

    /// <summary>
    /// Tells <paramref name="observer"/> of every change this silo's replicas apply from now on (other per-silo state
    /// derived from the catalogue, such as the suggestions' knowledge graph, follows the same feed this way).
    /// </summary>
    public void Subscribe(ICatalogueReplicaObserver observer)
    {
        lock (_tenants)
        {
            _observers = [.. _observers, observer];
        }
    }

    /// <summary>The tenant's replica once its first load from the store has finished (however long it takes).</summary>
    public async Task<CatalogueReplica> LoadedAsync(string tenant)
    {
        var replica = await GetAsync(tenant);
        while (!replica.Loaded)
        {
            Task? loading;
            lock (replica)
            {
                loading = replica.FirstLoad;
            }

            // A failed first load was reset by GetAsync; ask again.
            await (loading ?? GetAsync(tenant).AsTask());
        }

        return replica;
    }

    /// <summary>How long the first request of a tenant on a silo waits for the catalogue's first load.</summary>
    public static readonly TimeSpan FirstLoadWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The tenant's replica. The first load of a tenant here runs in the background and fills the items as it reads
    /// them: the first requests wait for it at most <see cref="FirstLoadWait"/> and are then served from the items
    /// read so far (a large catalogue on a busy silo must not turn the first request into a timeout).
    /// </summary>
    public async ValueTask<CatalogueReplica> GetAsync(string tenant)
    {
        var replica = _tenants.GetOrAdd(tenant, t => new CatalogueReplica(t));
        if (!replica.Loaded)
        {
            Task loading;
            lock (replica)
            {
                loading = replica.FirstLoad ??= Task.Run(() => RefreshAsync(tenant, replica, atLeast: 0));
            }

            await Task.WhenAny(loading, Task.Delay(FirstLoadWait, time));
            if (loading.IsFaulted)
            {
                lock (replica)
                {
                    // The next request tries again; this one fails (the store did not answer).
                    replica.FirstLoad = null;
                }

                await loading;
            }
        }
        else if (time.GetUtcNow() - replica.CheckedAt >= _options.SnapshotPoll && replica.TryStartRefresh())
        {
            _ = Task.Run(() => RefreshAsync(tenant, replica, atLeast: 0));
        }

        return replica;
    }

    /// <summary>The tenant's replica if this silo holds one (no load).</summary>
    public CatalogueReplica? Find(string tenant) => _tenants.GetValueOrDefault(tenant);

    /// <summary>Applies the catalogue's changes up to at least <paramref name="version"/> now (items and their vectors).</summary>
    public Task CatchUpAsync(string tenant, long version) =>
        RefreshAsync(tenant, _tenants.GetOrAdd(tenant, t => new CatalogueReplica(t)), version);

    /// <summary>
    /// The replica's item vectors under <paramref name="model"/>: built now if they are not (every item encoded, in
    /// the background), waited for at most <paramref name="wait"/>; null when they are not ready by then or the
    /// build failed (the next call tries again).
    /// </summary>
    public async Task<ItemVectorIndex?> IndexAsync(CatalogueReplica replica, OnnxRecommenderModel model, TimeSpan wait)
    {
        if (replica.BuiltIndex(model.Version) is { } built)
        {
            return built;
        }

        Task<ItemVectorIndex> building;
        lock (replica)
        {
            var current = replica.Index;
            if (current is null || current.IsFaulted || (current.IsCompletedSuccessfully && current.Result.ModelVersion != model.Version))
            {
                DisposeLater(current is { IsCompletedSuccessfully: true } replaced ? replaced.Result.DetachAnn() : null);
                current = Task.Run(() => BuildAsync(replica, model));
                replica.Index = current;
            }

            building = current;
        }

        try
        {
            var index = await building.WaitAsync(wait);
            return index.ModelVersion == model.Version ? index : null;
        }
        catch (TimeoutException)
        {
            return null;
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException)
        {
            return null;
        }
    }

    private async Task<ItemVectorIndex> BuildAsync(CatalogueReplica replica, OnnxRecommenderModel model)
    {
        // Under the gate: no change is applied while the items are read and encoded, so none is missed.
        await replica.Gate.WaitAsync();
        try
        {
            var cosine = model.Manifest.Scoring == "cosine";
            if (_options.VectorSnapshots && await RestoreAsync(replica, model, cosine) is { } restored)
            {
                return restored;
            }

            var items = replica.Items.Values.Select(ToModelItem).ToList();
            var index = new ItemVectorIndex(model.Version, model.Dim, cosine);
            for (var start = 0; start < items.Count; start += EncodeChunk)
            {
                var chunk = items.GetRange(start, Math.Min(EncodeChunk, items.Count - start));
                index.Set([.. chunk.Select(i => i.Id)], model.EncodeItems(chunk));
            }

            replica.IndexBuilds++;
            LogIndexBuilt(logger, model.Version, items.Count);
            SaveLater(replica, index);
            StartAnnIfDue(replica, index);
            return index;
        }
        finally
        {
            replica.Gate.Release();
        }
    }

    /// <summary>
    /// The item vectors (and approximate index) this silo saved for the replica's tenant under the model, with the
    /// items changed since encoded now; null when there is none, or more changed than a refresh applies.
    /// Under the replica's gate.
    /// </summary>
    private async Task<ItemVectorIndex?> RestoreAsync(CatalogueReplica replica, OnnxRecommenderModel model, bool cosine)
    {
        var started = time.GetTimestamp();
        ItemVectorSnapshot? snapshot = null;
        string[] changed;
        try
        {
            snapshot = snapshots.TryLoad(replica.Tenant, model.Version, cosine, model.Dim, await store.EpochAsync(replica.Tenant), _options.AnnExpansion);
            if (snapshot is null)
            {
                return null;
            }

            // Ahead of this replica's items (a store restored from a backup), or behind what the feed still holds: unusable.
            changed = (snapshot.CatalogueVersion <= replica.Version
                ? await store.ChangedAsync(replica.Tenant, snapshot.CatalogueVersion, replica.Version, MaxChangesPerRefresh + 1)
                : null) ?? new string[MaxChangesPerRefresh + 1];
        }
        catch (Exception e) when (Storage.StoreFailures.IsStoreError(e))
        {
            changed = new string[MaxChangesPerRefresh + 1];
        }

        if (changed.Length > MaxChangesPerRefresh)
        {
            snapshot?.Index.DetachAnn()?.Dispose();
            return null;
        }

        var index = snapshot!.Index;

        var present = changed.Select(id => replica.Items.GetValueOrDefault(id)).OfType<CatalogueItem>().Select(ToModelItem).ToList();
        for (var start = 0; start < present.Count; start += EncodeChunk)
        {
            var chunk = present.GetRange(start, Math.Min(EncodeChunk, present.Count - start));
            index.Set([.. chunk.Select(i => i.Id)], model.EncodeItems(chunk));
        }

        replica.IndexRestores++;
        LogIndexRestored(logger, replica.Tenant, model.Version, index.Count, index.Ann?.Index.Rows ?? 0, present.Count, time.GetElapsedTime(started).TotalSeconds);
        if (present.Count > 0)
        {
            SaveLater(replica, index);
        }

        StartAnnIfDue(replica, index);
        return index;
    }

    /// <summary>
    /// Saves the index as the tenant's snapshot: copied now (from the writer, under the gate, so the copy matches the
    /// replica's version), written in the background. One write per replica at a time; a copy made meanwhile is
    /// written after it (only the newest: at most two copies are held).
    /// </summary>
    private void SaveLater(CatalogueReplica replica, ItemVectorIndex index)
    {
        if (!_options.VectorSnapshots)
        {
            return;
        }

        var (ids, vectors, changed) = index.Copy();
        Volatile.Write(ref replica.PendingSave, new PendingSnapshot(index.ModelVersion, index.Cosine, index.Dim, replica.Version, ids, vectors, index.Ann?.Index, changed));
        if (Interlocked.CompareExchange(ref replica.Saving, 1, 0) == 0)
        {
            _ = Task.Run(() => WriteSnapshotsAsync(replica));
        }
    }

    private async Task WriteSnapshotsAsync(CatalogueReplica replica)
    {
        try
        {
            while (Interlocked.Exchange(ref replica.PendingSave, null) is { } pending)
            {
                try
                {
                    var epoch = await store.EpochAsync(replica.Tenant);
                    snapshots.Save(replica.Tenant, pending.ModelVersion, pending.Cosine, pending.Dim, epoch, pending.CatalogueVersion, pending.Ids, pending.Vectors, pending.Ann, pending.Changed);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or Cloud.Unum.USearch.USearchException || Storage.StoreFailures.IsStoreError(e))
                {
                    // A replaced approximate index, a full disk: the replica serves on; a restart encodes instead.
                    LogSaveFailed(logger, e, replica.Tenant);
                }
            }
        }
        finally
        {
            replica.Saving = 0;
        }

        // A copy left between the last look and the reset: write it too.
        if (Volatile.Read(ref replica.PendingSave) is not null && Interlocked.CompareExchange(ref replica.Saving, 1, 0) == 0)
        {
            await WriteSnapshotsAsync(replica);
        }
    }

    private async Task RefreshAsync(string tenant, CatalogueReplica replica, long atLeast)
    {
        await replica.Gate.WaitAsync();
        try
        {
            if (replica.Loaded && replica.Version >= atLeast && atLeast > 0)
            {
                return;
            }

            var version = await store.VersionAsync(tenant);
            var wholeFromStore = false;
            if (!replica.Loaded)
            {
                // A restart reads this silo's saved catalogue and the changes since, not every item from the store.
                if (!await RestoreItemsAsync(tenant, replica, version))
                {
                    await LoadWholeAsync(tenant, replica);
                    wholeFromStore = true;
                }
                else
                {
                    MoveLegacyItemsInBackground(tenant);
                }
            }
            else if (version > replica.Version)
            {
                var changed = await store.ChangedAsync(tenant, replica.Version, version, MaxChangesPerRefresh + 1);
                if (changed is null || changed.Length > MaxChangesPerRefresh)
                {
                    await LoadWholeAsync(tenant, replica);
                    wholeFromStore = true;
                }
                else
                {
                    await ApplyAsync(tenant, replica, changed);
                    replica.ChangesSinceSave += changed.Length;
                }
            }

            if (version > replica.Version || !replica.Loaded)
            {
                replica.ChangedAt = time.GetUtcNow();
            }

            replica.Version = Math.Max(replica.Version, version);
            replica.Loaded = true;
            replica.CheckedAt = time.GetUtcNow();
            SaveItemsIfDue(replica, wholeFromStore);
            StartAnnIfQuiet(tenant, replica);
        }
        catch (Exception e) when (Storage.StoreFailures.IsStoreError(e) && replica.Loaded)
        {
            // Keep serving what we have; the next poll tries again.
            LogRefreshFailed(logger, e, tenant);
            replica.CheckedAt = time.GetUtcNow();
        }
        finally
        {
            replica.Refreshing = 0;
            replica.Gate.Release();
        }
    }

    /// <summary>
    /// Fills a replica's first load from this silo's saved catalogue and the changes since; false (nothing done) when
    /// there is none, it is of another change feed, or more changed since than a refresh applies. Under the gate.
    /// </summary>
    private async Task<bool> RestoreItemsAsync(string tenant, CatalogueReplica replica, long version)
    {
        if (!_options.VectorSnapshots)
        {
            return false;
        }

        var started = time.GetTimestamp();
        var snapshot = catalogueSnapshots.TryLoad(tenant, await store.EpochAsync(tenant));
        if (snapshot is null || snapshot.Version > version)
        {
            return false;
        }

        var changed = await store.ChangedAsync(tenant, snapshot.Version, version, MaxChangesPerRefresh + 1);
        if (changed is null || changed.Length > MaxChangesPerRefresh)
        {
            return false;
        }

        foreach (var item in snapshot.Items)
        {
            replica.Items[item.Id] = item;
        }

        replica.Newest = NewestItems.Of(replica.Items);
        await ApplyAsync(tenant, replica, changed);
        replica.ChangesSinceSave = changed.Length;
        replica.ItemRestores++;
        LogItemsRestored(logger, tenant, snapshot.Items.Count, changed.Length, time.GetElapsedTime(started).TotalSeconds);
        return true;
    }

    /// <summary>
    /// Saves the replica's items as this silo's catalogue snapshot in the background, after a whole load from the
    /// store or once enough changed since the last save (1% of the items, at least 1,000). From the writer, under
    /// the gate: the version is taken before the items are read, so the snapshot holds every change up to it (a
    /// later one it may also hold is applied again on restore, which changes nothing).
    /// </summary>
    private void SaveItemsIfDue(CatalogueReplica replica, bool wholeFromStore)
    {
        if (!_options.VectorSnapshots || (!wholeFromStore && replica.ChangesSinceSave < Math.Max(1_000, replica.Items.Count / 100))
            || Interlocked.CompareExchange(ref replica.SavingItems, 1, 0) != 0)
        {
            return;
        }

        var (tenant, version, items) = (replica.Tenant, replica.Version, replica.Items);
        replica.ChangesSinceSave = 0;
        _ = Task.Run(async () =>
        {
            try
            {
                catalogueSnapshots.Save(tenant, await store.EpochAsync(tenant), version, [.. items.Values]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException || Storage.StoreFailures.IsStoreError(e))
            {
                // A full disk, a store away: the replica serves on; a restart reads the store instead.
                LogSaveFailed(logger, e, tenant);
            }
            finally
            {
                replica.SavingItems = 0;
            }
        });
    }

    /// <summary>
    /// A catalogue still in the hash of before 2026-12-03 is moved to item keys by a whole load; a replica that
    /// restarts from its own snapshot never makes one, so it moves it here, once per silo start, while it serves (every
    /// read finds an item before, during and after the move). A catalogue with no hash costs one command.
    /// </summary>
    private void MoveLegacyItemsInBackground(string tenant) => _ = Task.Run(async () =>
    {
        try
        {
            await store.MoveLegacyItemsAsync(tenant);
        }
        catch (Exception e)
        {
            // Nobody awaits this task: whatever failed is logged here or nowhere.
            LogMoveFailed(logger, e, tenant);
        }
    });

    private async Task LoadWholeAsync(string tenant, CatalogueReplica replica)
    {
        // The first load fills the dictionary requests already read; a reload builds a new one and swaps it in.
        var items = replica.Loaded ? new ConcurrentDictionary<string, CatalogueItem>(StringComparer.Ordinal) : replica.Items;
        await foreach (var item in store.LoadAllAsync(tenant))
        {
            items[item.Id] = item;
        }

        // Swapped whole (requests read one dictionary each); vectors are rebuilt from it on the next model request.
        // On the first load, a build that requests started meanwhile is waiting for this gate and will read the
        // loaded items: dropping it would only make the next request start a second one.
        var firstLoad = !replica.Loaded;
        replica.Newest = NewestItems.Of(items);
        replica.Items = items;
        if (!firstLoad)
        {
            foreach (var observer in _observers)
            {
                observer.Reloaded(tenant);
            }
        }

        if (!firstLoad || replica.Index is { IsCompleted: true })
        {
            DropIndex(replica);
        }
        replica.FullLoads++;
        LogLoaded(logger, tenant, items.Count);
    }

    private async Task ApplyAsync(string tenant, CatalogueReplica replica, string[] changed)
    {
        var current = await store.GetManyAsync(tenant, changed);
        var present = new List<CatalogueItem>(current.Length);
        var removed = new List<string>();
        for (var i = 0; i < changed.Length; i++)
        {
            if (current[i] is { } item)
            {
                replica.Items[item.Id] = item;
                present.Add(item);
            }
            else
            {
                replica.Items.TryRemove(changed[i], out _);
                removed.Add(changed[i]);
            }
        }

        replica.Newest = NewestItems.After(replica.Newest, present, removed) ?? NewestItems.Of(replica.Items);
        foreach (var observer in _observers)
        {
            observer.Applied(tenant, present, removed);
        }

        // Item vectors come from metadata: a new or changed item is scoreable now, without retraining. Vectors of
        // another model are left alone (the next request under the active model rebuilds them).
        if (present.Count > 0 && models.Active(tenant) is { } model && replica.BuiltIndex(model.Version) is { } index)
        {
            try
            {
                var items = present.Select(ToModelItem).ToList();
                index.Set([.. items.Select(i => i.Id)], model.EncodeItems(items));
                StartAnnIfDue(replica, index);
            }
            catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException)
            {
                // The items are applied; their vectors are rebuilt with the whole catalogue on the next request.
                DropIndex(replica);
            }
        }
    }

    /// <summary>
    /// Rebuilds the approximate index once the catalogue has been quiet for <see cref="RecommenderOptions.AnnQuietRebuild"/>
    /// when rows wait outside it (see <see cref="ItemVectorIndex.AnnLags"/>): measured at 1M items, the 12,000 rows an
    /// import added after the last build were 8% of the process's time, each scored on every request. Under the gate.
    /// </summary>
    private void StartAnnIfQuiet(string tenant, CatalogueReplica replica)
    {
        if (_options.AnnQuietRebuild > TimeSpan.Zero && time.GetUtcNow() - replica.ChangedAt >= _options.AnnQuietRebuild
            && models.Active(tenant) is { } model && replica.BuiltIndex(model.Version) is { } index && index.AnnLags())
        {
            StartAnnIfDue(replica, index, quiet: true);
        }
    }

    /// <summary>
    /// The tenant's most recent sessions (<see cref="RecommenderOptions.AnnCheckSessions"/>, from this silo's statistics
    /// replica) as the active model encodes them to serve — the queries the index will answer — or null when fewer than
    /// half that many are at hand (a new tenant, another model). An index must pass on them as well as on item vectors
    /// and means of four: measured on the serving benchmark's 1M catalogue (lists ranked by centroids alone), at the probe where those found 0.972 of
    /// the exact top 100, Beauty's sessions found 0.917 — and the bench folder's own generated sessions 0.984 at half
    /// that probe, so neither kind alone is a safe check.
    /// </summary>
    private RecallSample? SessionSample(string tenant, ItemVectorIndex index, int rows)
    {
        if (_options.AnnCheckSessions <= 0 || statistics.Peek(tenant) is not { } stats || models.Active(tenant) is not { } model
            || !string.Equals(model.Version, index.ModelVersion, StringComparison.Ordinal))
        {
            return null;
        }

        var queries = new List<float[]>();
        try
        {
            foreach (var items in stats.RecentSessions(_options.AnnCheckSessions, minLength: 2))
            {
                if (index.SessionInput(items, model.Manifest.MaxLength, out var length) is { } input)
                {
                    queries.Add(model.EncodeSessions(input, 1, length, [length - 1]));
                }
            }
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ObjectDisposedException)
        {
            // The model was replaced meanwhile: this index serves the old one only until it is rebuilt for the new.
            return null;
        }

        return queries.Count * 2 >= _options.AnnCheckSessions ? RecallSample.Of(index, rows, queries) : null;
    }

    /// <summary>
    /// Builds the approximate index of <paramref name="index"/> in the background when it is due (from the writer:
    /// under the replica's gate), and attaches it if the index still serves by then.
    /// </summary>
    private void StartAnnIfDue(CatalogueReplica replica, ItemVectorIndex index, bool quiet = false)
    {
        if (_options.AnnThreshold <= 0 || !(quiet || index.NeedsAnn(_options.AnnThreshold)) || index.Count < 2L * replica.AnnRefusedAtRows
            || Interlocked.CompareExchange(ref replica.AnnBuilding, 1, 0) != 0)
        {
            return;
        }

        var build = index.BeginAnn();
        _ = Task.Run(async () =>
        {
            var started = time.GetTimestamp();
            IApproximateIndex? built = null;
            var recall = 0.0;
            var checkedOn = "item vectors and means of four";
            try
            {
                // Seconds to tens of seconds of CPU (1M items: ~16 s): on a thread of its own, so the thread pool, which
                // serves requests and the embedded store, keeps its threads (see RecommenderOptions.AnnBuildThreads).
                (built, recall) = await Task.Factory.StartNew(
                    () =>
                    {
                        IApproximateIndex made = _options.AnnKind == RecommenderOptions.GraphIndex
                            ? AnnIndex.Build(index, build.Rows, expansionSearch: _options.AnnExpansion)
                            : InvertedFileIndex.Build(index, build.Rows, parallelism: _options.AnnBuildParallelism);
                        try
                        {
                            // Checked against the exact scan before it serves: an index that misses on this catalogue is
                            // dropped (the full scan serves) and not tried again until the catalogue doubles.
                            // An inverted file first widens its search until it passes, where this catalogue needs it.
                            // The tenant's own recent sessions must pass too, when it has enough of them.
                            var sessions = SessionSample(replica.Tenant, index, build.Rows);
                            var found = made is InvertedFileIndex ivf ? ivf.Calibrate(index, _options.AnnMinRecall, sessions) : made.MeasureRecall(index);
                            if (sessions?.Measure(made.Search) is { } onSessions)
                            {
                                found = Math.Min(found, onSessions);
                                checkedOn = $"item vectors, means of four and {sessions.Count} recent sessions (these: {onSessions:0.000})";
                            }

                            return (made, found);
                        }
                        catch
                        {
                            made.Dispose();
                            throw;
                        }
                    },
                    CancellationToken.None,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default);
            }
            catch (Exception e)
            {
                // Whatever went wrong, the replica must not stay marked as building (no index would ever follow).
                LogAnnFailed(logger, e, index.ModelVersion);
                built?.Dispose();
                built = null;
            }

            var accepted = built is not null && recall >= _options.AnnMinRecall;
            if (built is not null && !accepted)
            {
                LogAnnRefused(logger, index.ModelVersion, build.Rows, recall, _options.AnnMinRecall);
                replica.AnnRefusedAtRows = build.Rows;
                built.Dispose();
            }

            IApproximateIndex? retired;
            var followedOn = false;
            await replica.Gate.WaitAsync();
            try
            {
                if (!accepted)
                {
                    // The index it was to replace no longer describes the catalogue either.
                    retired = index.DetachAnn();
                }
                else if (replica.Index is { IsCompletedSuccessfully: true } current && ReferenceEquals(current.Result, index))
                {
                    retired = index.AttachAnn(built!, build);
                    var search = (built is InvertedFileIndex ivf ? $", reading {ivf.Probe} of its {ivf.Lists} lists" : "") + $", checked on {checkedOn}";
                    LogAnnBuilt(logger, index.ModelVersion, build.Rows, time.GetElapsedTime(started).TotalSeconds, recall, search);
                    SaveLater(replica, index);
                }
                else
                {
                    retired = built; // the replica moved on (a new model or a reload) while this was built
                }

                // The index the replica serves now — another one, or this one with rows added while the build ran —
                // may have asked for a build meanwhile (refused as "already building"): build it now if it is due, or
                // nothing would until the catalogue changes again (measured at 100k items: the last 7,000 rows of an
                // import stayed outside the index and every request scored them exactly, 717 req/s instead of ~1,250).
                replica.AnnBuilding = 0;
                if (replica.Index is { IsCompletedSuccessfully: true } now)
                {
                    StartAnnIfDue(replica, now.Result);
                }

                followedOn = true;
            }
            finally
            {
                if (!followedOn)
                {
                    replica.AnnBuilding = 0;
                }

                replica.Gate.Release();
            }

            DisposeLater(retired);
        });
    }

    private void DropIndex(CatalogueReplica replica)
    {
        lock (replica)
        {
            DisposeLater(replica.Index is { IsCompletedSuccessfully: true } built ? built.Result.DetachAnn() : null);
            replica.Index = null;
        }
    }

    /// <summary>Frees a replaced approximate index once requests that still hold it are done (they take milliseconds).</summary>
    private void DisposeLater(IApproximateIndex? ann)
    {
        if (ann is not null)
        {
            _ = Task.Delay(TimeSpan.FromSeconds(30), time).ContinueWith(_ => ann.Dispose(), TaskScheduler.Default);
        }
    }

    private static ImportItem ToModelItem(CatalogueItem item) =>
        new(item.Id, item.Title, item.Brand, item.Categories, item.Attributes, item.Price);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: catalogue read from this silo's snapshot ({Items} items, {Changed} changed since applied, {Seconds:0.0} s)")]
    private static partial void LogItemsRestored(ILogger logger, string tenant, int items, int changed, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: moving the catalogue hash to item keys failed; reads still find every item, the next start or whole load moves the rest")]
    private static partial void LogMoveFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tenant {Tenant}: catalogue replica loaded ({Items} items)")]
    private static partial void LogLoaded(ILogger logger, string tenant, int items);

    [LoggerMessage(Level = LogLevel.Information, Message = "Item vectors of model {Version} built ({Items} items)")]
    private static partial void LogIndexBuilt(ILogger logger, string version, int items);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: item vectors of model {Version} restored from this silo's snapshot ({Items} items, approximate index of {AnnRows} rows, {Changed} changed items encoded) in {Seconds:0.00} s")]
    private static partial void LogIndexRestored(ILogger logger, string tenant, string version, int items, int annRows, int changed, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: the item vector snapshot could not be saved; a restart encodes the catalogue")]
    private static partial void LogSaveFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Information, Message = "Approximate index of model {Version} built over {Rows} items in {Seconds:0.0} s; its self-check found {Recall:0.000} of the exact top 100{Search}")]
    private static partial void LogAnnBuilt(ILogger logger, string version, int rows, double seconds, double recall, string search);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approximate index of model {Version} over {Rows} items found {Recall:0.000} of the exact top 100 (at least {Minimum} needed): not used; requests scan every item")]
    private static partial void LogAnnRefused(ILogger logger, string version, int rows, double recall, double minimum);

    [LoggerMessage(Level = LogLevel.Error, Message = "Approximate index of model {Version} could not be built; requests scan every item")]
    private static partial void LogAnnFailed(ILogger logger, Exception exception, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {Tenant}: the catalogue replica could not refresh; it keeps serving what it has")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, string tenant);
}
