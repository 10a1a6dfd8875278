namespace SessionRec.Silo.Catalogue;

using System.ComponentModel.DataAnnotations;

public sealed class RecommenderOptions
{
    public const string SectionName = "Recommendations";

    /// <summary>The largest k a client may ask for; larger values are clamped.</summary>
    [Range(1, 1000)]
    public int MaxK { get; set; } = 100;

    [Range(1, 1000)]
    public int DefaultK { get; set; } = 20;

    /// <summary>Popularity halves over this period.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan PopularityHalfLife { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Blend weight of popularity beside co-occurrence (1) in the baseline ranker.</summary>
    [Range(0.0, 10.0)]
    public double PopularityWeight { get; set; } = 0.1;

    /// <summary>Don't recommend items the user already interacted with in the live session.</summary>
    public bool ExcludeSessionItems { get; set; } = true;

    /// <summary>At activation, the statistics are rebuilt from at most this many of the newest log records.</summary>
    [Range(1_000, 100_000_000)]
    public int RebuildMaxEvents { get; set; } = 2_000_000;

    /// <summary>How often an active catalogue follows the click log's tail.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan TailInterval { get; set; } = TimeSpan.FromSeconds(1);
}
