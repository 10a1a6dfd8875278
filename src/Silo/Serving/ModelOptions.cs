namespace SessionRec.Silo.Serving;

using System.ComponentModel.DataAnnotations;

public sealed class ModelOptions
{
    public const string SectionName = "Models";

    /// <summary>
    /// Model folders, one subfolder per tenant, one per version below it (what `sessionrec train` writes). Default:
    /// &lt;Storage:DataPath&gt;/models. In a cluster every silo must see the same folder (a shared volume).
    /// </summary>
    public string? Path { get; set; }

    /// <summary>How often a silo re-reads a tenant's active-model pointer, so an activation on one silo reaches all.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most sessions the scorer encodes in one ONNX Runtime call.</summary>
    [Range(1, 1024)]
    public int MaxBatch { get; set; } = 32;
}
