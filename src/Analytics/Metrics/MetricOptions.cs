namespace SessionRec.Analytics.Metrics;

/// <summary>How gains turn into the "gain" of DCG-family metrics.</summary>
public enum GainForm
{
    /// <summary>2^g − 1 (graded relevance weighs high grades much more).</summary>
    Exponential,

    /// <summary>g itself.</summary>
    Linear,
}

/// <summary>
/// The constants of the session metrics. Defaults are chosen a priori (not fitted to any data set) and
/// documented in docs/analytics.md; every one is an option so analysts can run sensitivity checks.
/// </summary>
public sealed record MetricOptions
{
    /// <summary>Results examined per query (the examination depth of every metric).</summary>
    public int Depth { get; init; } = 10;

    /// <summary>Where gains come from.</summary>
    public LabelSource Labels { get; init; } = LabelSource.Feedback;

    public GainForm Gain { get; init; } = GainForm.Exponential;

    /// <summary>The highest grade of the label scale (sRBP scales gains into [0, 1] by it).</summary>
    public double MaxGrade { get; init; } = 3;

    /// <summary>sDCG's query discount base: query i weighs 1 / (1 + log_bq(i)) (Järvelin et al. use 4).</summary>
    public double QueryDiscountBase { get; init; } = 4;

    /// <summary>Recency-weighted session DCG: query i of n weighs decay^(n − i).</summary>
    public double RecencyDecay { get; init; } = 0.7;

    /// <summary>sRBP persistence p: probability the user goes on (down the list or to a new query).</summary>
    public double RbpPersistence { get; init; } = 0.8;

    /// <summary>sRBP balance b: given the user goes on, probability of going down rather than reformulating.</summary>
    public double RbpBalance { get; init; } = 0.7;

    /// <summary>U-measure patience L, in characters read: text read after L characters is worth nothing.</summary>
    public double Patience { get; init; } = 5_000;

    /// <summary>Characters read per examined result (its title and snippet).</summary>
    public double SnippetLength { get; init; } = 100;

    /// <summary>Characters read per clicked result (the page behind it).</summary>
    public double DocumentLength { get; init; } = 500;

    /// <summary>NUM's cost of a reformulation (formulating and typing a new query), in characters.</summary>
    public double ReformulationCost { get; init; } = 200;
}

/// <summary>The three parts of NUM, each a switch so ablations can run.</summary>
public sealed record NumParts(bool SessionNormalisation = true, bool ReformulationCost = true, bool ClickEnhancement = true)
{
    public static NumParts Full { get; } = new();
}
