namespace SessionRec.Silo.Catalogue;

using System.ComponentModel.DataAnnotations;

/// <summary>How silos serve recommendations (the "Recommendations" section; the request defaults in it are the API's).</summary>
public sealed class RecommenderOptions
{
    public const string SectionName = "Recommendations";

    /// <summary>Popularity halves over this period.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan PopularityHalfLife { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Blend weight of popularity beside co-occurrence (1) in the baseline ranker.</summary>
    [Range(0.0, 10.0)]
    public double PopularityWeight { get; set; } = 0.1;

    /// <summary>Don't recommend items the user already interacted with in the live session.</summary>
    public bool ExcludeSessionItems { get; set; } = true;

    /// <summary>
    /// A tenant's first statistics build reads at most this many of the newest log records; later activations
    /// resume from the published snapshot.
    /// </summary>
    [Range(1_000, 100_000_000)]
    public int RebuildMaxEvents { get; set; } = 2_000_000;

    /// <summary>
    /// Recent sessions the session-kNN term of the ranking stage compares a session with (each with its last 20
    /// distinct items): ~250 B a session, 25 MB per tenant at the default, in the builder and in each silo's replica.
    /// </summary>
    [Range(1_000, 10_000_000)]
    public int NeighbourSessions { get; set; } = Models.Baseline.SessionNeighbours.DefaultMaxSessions;

    /// <summary>
    /// Distinct neighbour sessions an item needs before the session-kNN term votes for it. 1 (the default, what
    /// `sessionrec eval recs` measures) treats sessions as co-occurrence treats pairs; 2 or more keeps any one other
    /// session from lifting its items by itself.
    /// </summary>
    [Range(1, 100)]
    public int NeighbourMinVotes { get; set; } = Models.Baseline.SessionNeighbours.DefaultMinVotes;

    /// <summary>How often the statistics builder follows the click log's tail (events also nudge it at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan TailInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Shortest time between two published statistics snapshots: with <see cref="SnapshotPoll"/>, how far behind
    /// the log recommendations may be (at most the sum, 6 s by default). Each snapshot is the whole statistics.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// From this many items on, the ranking stage scores candidates (an approximate nearest-neighbour index's
    /// <see cref="AnnCandidates"/> rows, plus every row a co-occurrence, item-kNN or multi-round term names) instead
    /// of every item. 0: always scan every item. The index is built per silo in the background; until it is ready
    /// requests scan every item.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int AnnThreshold { get; set; } = 50_000;

    public const string InvertedFile = "ivf";
    public const string GraphIndex = "hnsw";

    /// <summary>
    /// The approximate index: <c>ivf</c> (an inverted file, <see cref="Models.Serving.InvertedFileIndex"/>: recall@100
    /// 0.973 at 1M rows on session vectors, built in seconds) or <c>hnsw</c> (USearch's proximity graph,
    /// <see cref="Models.Serving.AnnIndex"/>: 0.97 at 100k rows but 0.46 at 1M, built in minutes).
    /// </summary>
    [RegularExpression("^(ivf|hnsw)$", ErrorMessage = "Recommendations:AnnKind is ivf or hnsw.")]
    public string AnnKind { get; set; } = InvertedFile;

    /// <summary>
    /// An approximate index rebuilds when rows added or changed since its build pass 2% of it, or, once the catalogue
    /// has had no change for this long, when they pass one per thousand (each is scored exactly on every request until
    /// then). 0: only the 2% rule.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AnnQuietRebuild { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Threads an inverted file's build uses (0: half the cores, at least one). The build runs on a thread of its own,
    /// never the thread pool's: measured at 1M items, a build spread over the pool took every thread the pool added
    /// (an unbounded parallel loop), and the embedded store, which answers on the same pool, went silent for 6 s —
    /// requests failed with timeouts.
    /// </summary>
    [Range(0, 256)]
    public int AnnBuildThreads { get; set; }

    /// <summary>The build threads <see cref="AnnBuildThreads"/> gives on this machine.</summary>
    public int AnnBuildParallelism => AnnBuildThreads > 0 ? AnnBuildThreads : Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>
    /// How many of the tenant's most recent sessions (of two items or more), encoded by the model as it serves them, an
    /// approximate index must also pass on (<see cref="AnnMinRecall"/>) before it serves, besides item vectors and means
    /// of four rows; with fewer than half that many at hand, or 0, only those. Measured on the serving benchmark's 1M
    /// catalogue with lists ranked by centroids alone: item vectors and means of four found 0.972 of the exact top 100
    /// where Beauty's sessions found 0.917.
    /// </summary>
    [Range(0, 10_000)]
    public int AnnCheckSessions { get; set; } = 40;

    /// <summary>How many rows the approximate index retrieves per request.</summary>
    [Range(10, 10_000)]
    public int AnnCandidates { get; set; } = 400;

    /// <summary>The graph index's search breadth (HNSW ef, for <c>AnnKind=hnsw</c>): higher finds more of the true nearest rows, slower.</summary>
    [Range(10, 10_000)]
    public int AnnExpansion { get; set; } = 256;

    /// <summary>
    /// The recall@100 against the exact scan an approximate index must show on its own catalogue (item vectors and
    /// session-like means of four as queries: 20 and 20 for an inverted file, 10 and 10 for a graph) before it serves; below it the replica keeps scanning every item. An inverted file reads more of its
    /// lists until it passes (each costs every request a little); a graph index is not widened.
    /// </summary>
    [Range(0.0, 1.0)]
    public double AnnMinRecall { get; set; } = 0.97;

    /// <summary>
    /// Keep each tenant's catalogue, item vectors and approximate index on the silo's disk (&lt;Storage:DataPath&gt;/snapshots),
    /// so a restart reads them and applies (and encodes) only the items changed since, instead of reading and encoding
    /// the whole catalogue.
    /// </summary>
    public bool VectorSnapshots { get; set; } = true;

    /// <summary>
    /// At start, each silo loads what the first recommendation of this many tenants with an active model needs
    /// (their catalogue, statistics, model and item vectors), in the background, before any request asks: a restart
    /// then answers with the model at once instead of ~2 s after its first request. 0 turns it off. The tenants are
    /// those whose model was activated last; the others load on their first request, as before.
    /// </summary>
    [Range(0, 1_000)]
    public int WarmUpTenants { get; set; } = 16;

    /// <summary>How often a silo's replica looks for a newer snapshot (one small read) while it serves.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan SnapshotPoll { get; set; } = TimeSpan.FromSeconds(1);
}
