namespace SessionRec.Training;

/// <summary>Hyperparameters of the session transformer and its trainer; recorded in every model manifest.</summary>
public sealed record M2TRecOptions
{
    /// <summary>Item vectors from metadata (M2TRec). False gives the ID-based SASRec-style baseline.</summary>
    public bool Metadata { get; init; } = true;

    /// <summary>A learned per-item vector added to the metadata vector (zero for items never trained on).</summary>
    public bool IdResidual { get; init; }

    /// <summary>
    /// With <see cref="IdResidual"/>: train the pure metadata model first and keep the residuals only if they improve
    /// validation (true, the default: `train --item-vectors auto`), or train them from the first epoch and keep them
    /// (false: `--item-vectors hybrid`). Where the metadata cannot separate items (<see
    /// Models.Featurization.FeatureCoverage.SeparatesItems"/> false: most items share another's exact metadata), the
    /// pure stage would be spent on a model that cannot tell those items apart, so the residuals train from the first
    /// epoch either way.
    /// </summary>
    public bool ChooseOnValidation { get; init; } = true;

    /// <summary>
    /// With <see cref="IdResidual"/>: only items with at least this many training interactions learn a residual; the
    /// rest (rare and new items) keep their pure metadata vector, which a few interactions cannot improve on without
    /// overfitting. 0 gives every item a residual.
    /// </summary>
    public int ResidualMinCount { get; init; } = 5;

    public bool UseBrand { get; init; } = true;

    public bool UseCategories { get; init; } = true;

    public bool UseTitle { get; init; } = true;

    public bool UseAttributes { get; init; } = true;

    public bool UsePrice { get; init; } = true;

    /// <summary>Loss weight of the next item's primary category head (0 = no head).</summary>
    public double PrimaryWeight { get; init; } = 0.1;

    /// <summary>Loss weight of the next item's subcategory heads (0 = no heads).</summary>
    public double SubcategoryWeight { get; init; } = 0.1;

    /// <summary>"last": the encoder output at the last position; "mean": average pooling over the session (the paper).</summary>
    public string Pooling { get; init; } = "last";

    /// <summary>"linear": item vector = W · concat(fields); "mlp": plus a GELU hidden layer (residual).</summary>
    public string ItemTower { get; init; } = "linear";

    /// <summary>"dot": score = session · item; "cosine": both L2-normalised, times a learned scale.</summary>
    public string Scoring { get; init; } = "dot";

    public int Dim { get; init; } = 64;

    public int FieldDim { get; init; } = 64;

    public int Layers { get; init; } = 2;

    public int Heads { get; init; } = 2;

    public int FeedForward { get; init; } = 128;

    public int MaxLength { get; init; } = 50;

    public double Dropout { get; init; } = 0.2;

    public double LearningRate { get; init; } = 2e-3;

    public double WeightDecay { get; init; }

    /// <summary>Most sequences in a batch.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Most padded positions (sequences × longest) in a batch.</summary>
    public int TokensPerBatch { get; init; } = 1024;

    public int MaxEpochs { get; init; } = 200;

    /// <summary>Wall-clock training budget; the best epoch on validation so far is kept when it runs out.</summary>
    public double MaxMinutes { get; init; } = 10;

    /// <summary>Epochs without a better validation metric before stopping.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Validation users sampled for early stopping (0 = all).</summary>
    public int ValidationUsers { get; init; } = 4000;

    public int Seed { get; init; } = 42;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public bool HasHeads => Metadata && UseCategories && (PrimaryWeight > 0 || SubcategoryWeight > 0);
}
