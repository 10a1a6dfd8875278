namespace SessionRec.Silo.ModelVersions;

using SessionRec.Abstractions.ModelVersions;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Silo.Serving;

/// <summary>
/// A tenant's model versions through this silo's <see cref="ModelRegistry"/>: the registry writes the shared
/// pointer (active.json), which every other silo re-reads within <see cref="ModelOptions.PollInterval"/>. One
/// activation per tenant, so activations and rollbacks of a tenant happen one at a time.
/// </summary>
public sealed class ModelVersionsGrain(ModelRegistry registry) : Grain, IModelVersionsGrain
{
    private string Tenant => this.GetPrimaryKeyString();

    public Task<ModelVersionsView> DescribeAsync() => Task.FromResult(View());

    public Task<ModelChange> ActivateAsync(string? version)
    {
        if (version is not null && registry.List(Tenant).All(v => v.Version != version))
        {
            return Task.FromResult(new ModelChange(View(), ModelChangeRefusal.UnknownVersion, $"There is no model version '{version}' for this tenant."));
        }

        return Task.FromResult(Change(() => registry.Activate(Tenant, version)));
    }

    public Task<ModelChange> RollbackAsync() => Task.FromResult(Change(() => registry.Rollback(Tenant)));

    private ModelChange Change(Action change)
    {
        try
        {
            change();
            return new ModelChange(View());
        }
        catch (InvalidDataException e)
        {
            return new ModelChange(View(), ModelChangeRefusal.Refused, e.Message);
        }
    }

    private ModelVersionsView View()
    {
        var pointer = registry.Pointer(Tenant);
        return new ModelVersionsView(
            registry.Active(Tenant)?.Version ?? RecommendationLimits.BaselineModelVersion,
            pointer.Active,
            pointer.History,
            [.. (pointer.Activations ?? []).Select(a => new ModelActivationView(a.Version, a.At, a.Action))],
            [.. registry.List(Tenant).Select(v => new ModelVersionView(
                v.Version,
                v.Kind,
                v.Created,
                v.Training is { } t ? new ModelTrainingView(t.Dataset, t.Fingerprint, t.Users, t.Items, t.Interactions) : null,
                v.Metrics,
                v.Error))]);
    }
}
