namespace SessionRec.Silo.Knowledge;

using System.ComponentModel.DataAnnotations;
using SessionRec.KnowledgeStore.Knowledge;

/// <summary>The knowledge store and the suggestion pipeline (section <c>Knowledge</c>).</summary>
public sealed class KnowledgeServiceOptions
{
    public const string SectionName = "Knowledge";

    /// <summary>Memory-stream records older than this are dropped; the entity aggregates stay.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    [Range(1, 100_000)]
    public int MaxRecords { get; set; } = 500;

    /// <summary>Link queries to categories by MiniLM similarity where no alias matches (costs ~4 ms a new text).</summary>
    public bool SemanticLinking { get; set; } = true;

    /// <summary>Which personal entities a suggestion request retrieves: Familiar, Unfamiliar, Lapsed or Recency.</summary>
    public RetrievalStrategy Strategy { get; set; } = RetrievalStrategy.Recency;

    [Range(1, 20)]
    public int MaxK { get; set; } = 20;

    [Range(1, 20)]
    public int DefaultK { get; set; } = 8;

    public KnowledgeOptions ToStoreOptions() => new() { Retention = Retention, MaxRecords = MaxRecords };
}
