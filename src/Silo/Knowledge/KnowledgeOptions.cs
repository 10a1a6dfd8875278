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

    /// <summary>
    /// A user's knowledge store is written back (every <c>Sessions:PersistInterval</c>, and when it deactivates)
    /// once this many of the user's records were read since it was last written (folded, or passed over: impressions
    /// and events the store does not keep); fewer are read again from the click log by the next activation instead,
    /// so no activation reads more than this many. Writing a store costs more than folding a few records (measured: a
    /// store of nine items takes ~0.5 ms to serialise, its records ~0.1 ms to fold), so a user's first requests
    /// after an import write nothing. 1 writes after every fold.
    /// </summary>
    [Range(1, 100_000)]
    public int PersistAfterRecords { get; set; } = 50;

    /// <summary>
    /// Whether every user's knowledge store folds the user's records as they arrive. false (the default): a store
    /// follows once the user has asked for suggestions (in this activation of the user's session); until then it
    /// folds what it has not seen from the click log when it is read (a suggestion request, the knowledge API), so a
    /// user who never uses the search box costs ingestion no folding and no store in memory. true: every event batch
    /// is handed to the user's store, and no suggestion request folds a history first. Measured (Beauty imported,
    /// embedded default, batches of 100, 2 cores): 29,749 events/s without the hand-over, 13,061 with it.
    /// </summary>
    public bool FoldOnArrival { get; set; }

    /// <summary>Link queries to categories by MiniLM similarity where no alias matches (costs ~4 ms a new text).</summary>
    public bool SemanticLinking { get; set; } = true;

    /// <summary>Which personal entities a suggestion request retrieves: Familiar, Unfamiliar, Lapsed or Recency.</summary>
    public RetrievalStrategy Strategy { get; set; } = RetrievalStrategy.Recency;

    [Range(1, 20)]
    public int MaxK { get; set; } = 20;

    [Range(1, 20)]
    public int DefaultK { get; set; } = 8;

    /// <summary>
    /// k-anonymity of the shared query log: a query (or what-was-searched-next transition) is suggested to others
    /// only once this many distinct users searched it.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MinDistinctUsers { get; set; } = 3;

    /// <summary>Per-tenant <see cref="MinDistinctUsers"/>.</summary>
    public Dictionary<string, int> TenantMinDistinctUsers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Phrases never suggested to any tenant (whole words, case and punctuation ignored).</summary>
    public List<string> BlockedPhrases { get; set; } = [];

    /// <summary>Regular expressions never suggested to any tenant (case-insensitive).</summary>
    public List<string> BlockedPatterns { get; set; } = [];

    /// <summary>
    /// Distinct queries a tenant's query log keeps (the least recently searched are forgotten past it). Memory: about
    /// 100 bytes per query plus ~60 per (query, searcher) pair; the default bounds a tenant near 100–300 MB.
    /// </summary>
    [Range(1_000, int.MaxValue)]
    public int MaxQueries { get; set; } = 1_000_000;

    public int MinDistinctUsersFor(string tenant) => TenantMinDistinctUsers.TryGetValue(tenant, out var n) ? Math.Max(1, n) : MinDistinctUsers;

    public KnowledgeOptions ToStoreOptions() => new() { Retention = Retention, MaxRecords = MaxRecords };
}
