namespace SessionRec.ServiceDefaults;

using System.Diagnostics.Metrics;

/// <summary>Names of SessionRec's own meter and instruments.</summary>
public static class Telemetry
{
    public const string MeterName = "SessionRec";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> EventsAccepted = Meter.CreateCounter<long>("sessionrec.events.accepted", description: "Events appended to the click log.");
    public static readonly Counter<long> EventsDuplicate = Meter.CreateCounter<long>("sessionrec.events.duplicate", description: "Events whose id was already logged.");
    public static readonly Counter<long> EventsRejected = Meter.CreateCounter<long>("sessionrec.events.rejected", description: "Events refused by validation.");
    public static readonly Counter<long> ClickLogUnreadable = Meter.CreateCounter<long>("sessionrec.clicklog.unreadable", description: "Stored click-log records that no longer parse, skipped by a reader.");
    public static readonly Counter<long> CatalogueUnreadable = Meter.CreateCounter<long>("sessionrec.catalogue.unreadable", description: "Stored catalogue items that no longer parse, read as absent.");
    public static readonly Histogram<double> RecommendationDuration = Meter.CreateHistogram<double>("sessionrec.recommendations.duration", unit: "ms", description: "Time to compute one recommendation list.");
    public static readonly Histogram<double> SuggestionDuration = Meter.CreateHistogram<double>("sessionrec.suggestions.duration", unit: "ms", description: "Time to compute one suggestion list.");
}
