namespace SessionRec.Models.Data;

/// <summary>A catalogue item as a data set describes it.</summary>
public sealed record ImportItem(
    string Id,
    string Title,
    string? Brand,
    IReadOnlyList<string> Categories,
    IReadOnlyDictionary<string, string> Attributes,
    decimal? Price);

/// <summary>
/// One interaction as a data set describes it. <see cref="UnixTime"/> is null where the data set has no times
/// (Amazon Beauty: order only); <see cref="SessionKey"/> is set where the data set has sessions of its own.
/// </summary>
public sealed record ImportInteraction(string UserId, string ItemId, string Type, double? UnixTime, string? SessionKey);

public sealed record Dataset(string Name, IReadOnlyList<ImportItem> Items, IReadOnlyList<ImportInteraction> Interactions);
