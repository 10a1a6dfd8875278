namespace SessionRec.Silo.Replicas;

using System.Collections.Concurrent;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Models.Serving;

/// <summary>
/// One silo's copy of one tenant's catalogue: the items (read by requests without a lock) and their vectors under
/// the active model. Written only by <see cref="CatalogueReplicas"/>, one writer at a time (<see cref="Gate"/>).
/// </summary>
public sealed class CatalogueReplica(string tenant)
{
    private long _served;

    public string Tenant => tenant;

    /// <summary>The items (swapped whole when the replica reloads: a request reads the one it took).</summary>
    public ConcurrentDictionary<string, CatalogueItem> Items { get; internal set; } = new(StringComparer.Ordinal);

    /// <summary>The newest available items, newest first (<see cref="NewestItems"/>; swapped whole by the writer).</summary>
    public CatalogueItem[] Newest { get; internal set; } = [];

    /// <summary>The catalogue version every applied change is at or below.</summary>
    public long Version { get; internal set; }

    /// <summary>The item vectors under one model version: null until a request under a model needs them.</summary>
    public Task<ItemVectorIndex>? Index { get; internal set; }

    internal SemaphoreSlim Gate { get; } = new(1, 1);

    internal bool Loaded { get; set; }

    /// <summary>The first load from the store, shared by the requests that arrive while it runs.</summary>
    internal Task? FirstLoad { get; set; }

    internal DateTimeOffset CheckedAt { get; set; } = DateTimeOffset.MinValue;

    /// <summary>When the replica last applied a catalogue change (or loaded): a quiet catalogue gets its index rebuilt.</summary>
    internal DateTimeOffset ChangedAt { get; set; } = DateTimeOffset.MinValue;

    internal int Refreshing;

    internal int AnnBuilding;

    internal int Saving;

    internal int SavingItems;

    /// <summary>Changes applied since the items were last saved to this silo's disk.</summary>
    internal int ChangesSinceSave;

    /// <summary>The newest copy of the item vectors waiting to be written as this silo's snapshot.</summary>
    internal PendingSnapshot? PendingSave;

    /// <summary>The rows of the last approximate index that failed its recall check (0: none).</summary>
    internal int AnnRefusedAtRows;

    public int FullLoads { get; internal set; }

    /// <summary>First loads read from this silo's catalogue snapshot instead of the store (a restart).</summary>
    public int ItemRestores { get; internal set; }

    public int IndexBuilds { get; internal set; }

    /// <summary>Item vectors read from this silo's snapshot instead of encoded (with the changed items encoded).</summary>
    public int IndexRestores { get; internal set; }

    public long Served => Interlocked.Read(ref _served);

    public void CountServed() => Interlocked.Increment(ref _served);

    internal bool TryStartRefresh() => Interlocked.CompareExchange(ref Refreshing, 1, 0) == 0;

    /// <summary>The index if it is built for <paramref name="modelVersion"/>, else null.</summary>
    public ItemVectorIndex? BuiltIndex(string modelVersion) =>
        Index is { IsCompletedSuccessfully: true } built && built.Result.ModelVersion == modelVersion ? built.Result : null;
}

/// <summary>A copy of a replica's item vectors (and its approximate index) at one catalogue version, to be saved.</summary>
internal sealed record PendingSnapshot(string ModelVersion, bool Cosine, int Dim, long CatalogueVersion, string[] Ids, float[] Vectors, IApproximateIndex? Ann, int[] Changed);
