namespace SessionRec.Abstractions.ModelVersions;

/// <summary>
/// A tenant's model versions: what is there, what serves, activation and rollback. Activations are checked (the
/// version is loaded) before they take effect and reach every silo within its poll of the shared models folder.
/// </summary>
[Alias("SessionRec.IModelVersionsGrain")]
public interface IModelVersionsGrain : IGrainWithStringKey
{
    [Alias("DescribeAsync")]
    Task<ModelVersionsView> DescribeAsync();

    /// <summary>Serves <paramref name="version"/> (null: the baseline).</summary>
    [Alias("ActivateAsync")]
    Task<ModelChange> ActivateAsync(string? version);

    /// <summary>Serves what served before the current version.</summary>
    [Alias("RollbackAsync")]
    Task<ModelChange> RollbackAsync();
}

/// <summary>The outcome of an activation or rollback: the versions afterwards, or why nothing changed.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.ModelChange")]
public sealed record ModelChange(
    [property: Id(0)] ModelVersionsView View,
    [property: Id(1)] ModelChangeRefusal? Refusal = null,
    [property: Id(2)] string? Reason = null);

/// <summary>Why a change was not made: the version does not exist, or it failed its checks (or there is nothing to roll back to).</summary>
public enum ModelChangeRefusal
{
    UnknownVersion,
    Refused,
}

/// <summary>
/// What serves (the baseline's name when no model does), the active version, the versions a rollback returns to
/// (newest first), the activations (newest first) and every version in the folder.
/// </summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.ModelVersionsView")]
public sealed record ModelVersionsView(
    [property: Id(0)] string Serving,
    [property: Id(1)] string? Active,
    [property: Id(2)] IReadOnlyList<string> History,
    [property: Id(3)] IReadOnlyList<ModelActivationView> Activations,
    [property: Id(4)] IReadOnlyList<ModelVersionView> Versions);

[GenerateSerializer, Immutable]
[Alias("SessionRec.ModelActivationView")]
public sealed record ModelActivationView(
    [property: Id(0)] string Version,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Action);

/// <summary>One version folder: its manifest's kind, creation time, training data and metrics, or why it cannot load.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.ModelVersionView")]
public sealed record ModelVersionView(
    [property: Id(0)] string Version,
    [property: Id(1)] string? Kind,
    [property: Id(2)] DateTimeOffset? Created,
    [property: Id(3)] ModelTrainingView? Training,
    [property: Id(4)] IReadOnlyDictionary<string, double>? Metrics,
    [property: Id(5)] string? Error);

/// <summary>The data a version was trained on.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.ModelTrainingView")]
public sealed record ModelTrainingView(
    [property: Id(0)] string Dataset,
    [property: Id(1)] string Fingerprint,
    [property: Id(2)] int Users,
    [property: Id(3)] int Items,
    [property: Id(4)] long Interactions);
