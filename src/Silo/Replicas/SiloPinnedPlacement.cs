namespace SessionRec.Silo.Replicas;

using Orleans.Placement;
using Orleans.Runtime.Placement;

/// <summary>
/// Places a grain on the silo its key names (<see cref="SiloAddress.ToParsableString"/>): one activation per silo,
/// addressable from anywhere, for state that is per silo by nature (that silo's replicas). A key naming a silo
/// that is not in the cluster fails the call rather than placing the grain elsewhere.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
[Alias("SessionRec.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    public static readonly SiloPinnedPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Instance);

public sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var named = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
        if (!context.GetCompatibleSilos(target).Contains(named))
        {
            throw new SiloUnavailableException($"Silo {named} is not an active member of the cluster");
        }

        return Task.FromResult(named);
    }
}
