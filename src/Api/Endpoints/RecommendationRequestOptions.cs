namespace SessionRec.Api.Endpoints;

using System.ComponentModel.DataAnnotations;

/// <summary>What a recommendation request gets when it does not say: list size and multi-round rounds (the
/// "Recommendations" section, which the silos read for how they serve).</summary>
public sealed class RecommendationRequestOptions
{
    public const string SectionName = "Recommendations";

    /// <summary>The largest k a client may ask for; larger values are clamped.</summary>
    [Range(1, 1000)]
    public int MaxK { get; set; } = 100;

    [Range(1, 1000)]
    public int DefaultK { get; set; } = 20;

    /// <summary>
    /// Multi-round retrieval rounds a request runs when it does not say (<c>rounds</c>): null = as many as the active
    /// model was trained for, 0 = off. Only models with a round encoder (`sessionrec train --rounds`) use them.
    /// </summary>
    [Range(0, 10)]
    public int? Rounds { get; set; }

    /// <summary>Per-tenant overrides of <see cref="Rounds"/> (tenant → rounds, 0 = off).</summary>
    public Dictionary<string, int> TenantRounds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The rounds a request of <paramref name="tenant"/> runs by default: -1 = the model's own number.</summary>
    public int DefaultRounds(string tenant) => TenantRounds.TryGetValue(tenant, out var rounds) ? rounds : Rounds ?? -1;
}
