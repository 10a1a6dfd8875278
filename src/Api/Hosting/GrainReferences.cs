namespace SessionRec.Api.Hosting;

using Orleans.Runtime;

/// <summary>
/// References to the grains of one interface, made without Orleans's type resolution per call: GetGrain reads the
/// interface's attributes by reflection every time (measured: ~4% of a suggestion request's CPU). The grain type
/// and interface type are read once, from the first reference made the usual way, when the first request needs
/// one (the cluster client is connected by then, so the grain type is the cluster's, never a placeholder).
/// </summary>
public sealed class GrainReferences<TGrain>(IGrainFactory grains) where TGrain : IGrainWithStringKey
{
    // One reference, swapped whole: requests on other threads read both types or neither.
    private Types? _types;

    public TGrain Get(string key)
    {
        if (_types is not { } types)
        {
            var first = (GrainReference)(object)grains.GetGrain<TGrain>(key);
            _types = new Types(first.GrainId.Type, first.InterfaceType);
            return (TGrain)(object)first;
        }

        return (TGrain)grains.GetGrain(GrainId.Create(types.Type, key), types.Interface);
    }

    private sealed record Types(GrainType Type, GrainInterfaceType Interface);
}
