namespace SessionRec.Silo.ClickLog;

using System.ComponentModel.DataAnnotations;

/// <summary>How the click log deduplicates (read by every process that appends: silos, API processes, the direct import).</summary>
public sealed class ClickLogOptions
{
    public const string SectionName = "ClickLog";

    /// <summary>
    /// How long an event id is remembered for deduplication. The ids are kept in one hash per day of arrival, each
    /// expiring a day after it leaves the window, so memory is bounded by the ids of the last window (about 100 B an
    /// id, ~100 MB per million in Redis). An event whose timestamp is older than the window is refused as too old: its
    /// first attempt may have been forgotten, so it could not be told from a retry.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "365.00:00:00")]
    public TimeSpan DedupWindow { get; set; } = EventContract.EventWindow.DefaultDedupWindow;
}
