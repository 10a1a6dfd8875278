namespace SessionRec.Silo.Replicas;

using SessionRec.Abstractions.Catalogue;

/// <summary>
/// Per-silo state derived from a tenant's catalogue, told of each change the silo's <see cref="CatalogueReplicas"/>
/// applies. Called by the replica's single writer, in order; an observer must return quickly (queue, do not build).
/// </summary>
public interface ICatalogueReplicaObserver
{
    /// <summary>Items changed (the new versions) and removed.</summary>
    void Applied(string tenant, IReadOnlyList<CatalogueItem> changed, IReadOnlyList<string> removed);

    /// <summary>The replica was too far behind and reloaded the catalogue whole: whatever was derived from it is stale.</summary>
    void Reloaded(string tenant);
}
