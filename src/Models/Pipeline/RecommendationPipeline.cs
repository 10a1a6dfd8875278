namespace SessionRec.Models.Pipeline;

/// <summary>What a recommendation is asked for.</summary>
/// <param name="SessionItems">Items of the live session, oldest first.</param>
/// <param name="ContextItem">The item the user is looking at now, if the page has one.</param>
public sealed record CandidateQuery(IReadOnlyList<string> SessionItems, string? ContextItem, int K);

/// <summary>One candidate as a source proposes it. Scores are comparable within one source only.</summary>
public readonly record struct Candidate(string ItemId, double Score, string Reason);

/// <summary>A named way of finding candidates (co-occurrence, popularity, a model's nearest items...).</summary>
public interface ICandidateSource
{
    string Name { get; }

    /// <summary>Adds up to <paramref name="limit"/> candidates, best first, each item once.</summary>
    void Collect(CandidateQuery query, int limit, List<Candidate> into);
}

/// <summary>A scored, attributed item in the final list.</summary>
public sealed record RankedItem(string ItemId, double Score, string Source, string Reason);

/// <summary>
/// Candidate sources → ranker → exclusions → fallback. The ranker blends each source's scores after scaling
/// them to [0, 1] by that source's best score, with a weight per source; an item is credited to the source
/// that contributed most to it. Fallback sources, in order, fill the list when the others find too little; each
/// fallback's items rank below everything found before it.
/// </summary>
public sealed class RecommendationPipeline
{
    private readonly IReadOnlyList<(ICandidateSource Source, double Weight)> _sources;
    private readonly IReadOnlyList<ICandidateSource> _fallbacks;

    public RecommendationPipeline(IReadOnlyList<(ICandidateSource Source, double Weight)> sources, params IReadOnlyList<ICandidateSource> fallbacks)
    {
        _sources = sources;
        _fallbacks = fallbacks;
    }

    /// <param name="isExcluded">Items that must not be served (bought, excluded by the caller, unavailable...).</param>
    public IReadOnlyList<RankedItem> Recommend(CandidateQuery query, Func<string, bool> isExcluded)
    {
        // Ask each source for more than k: exclusions remove some candidates after the fact.
        var perSource = Math.Max(query.K * 3, query.K + 50);
        var merged = new Dictionary<string, Scored>(StringComparer.Ordinal);
        var buffer = new List<Candidate>(perSource);

        foreach (var (source, weight) in _sources)
        {
            buffer.Clear();
            source.Collect(query, perSource, buffer);
            if (_sources.Count == 1 && FirstOfOne(buffer, source.Name, weight, query.K, isExcluded) is { } listed)
            {
                return listed;
            }

            Merge(merged, buffer, source.Name, weight, isExcluded);
        }

        foreach (var fallback in _fallbacks)
        {
            if (merged.Count >= query.K)
            {
                break;
            }

            buffer.Clear();
            fallback.Collect(query, perSource + merged.Count, buffer);

            // Contributions are in [0, 1]: starting two below the lowest score so far ranks them strictly after it.
            var floor = 0.0;
            if (merged.Count > 0)
            {
                floor = double.MaxValue;
                foreach (var scored in merged.Values)
                {
                    floor = Math.Min(floor, scored.Total);
                }

                floor -= 2;
            }

            Merge(merged, buffer, fallback.Name, 1, isExcluded, floor, onlyNew: true);
        }

        var ranked = new List<RankedItem>(merged.Count);
        foreach (var (itemId, scored) in merged)
        {
            ranked.Add(new RankedItem(itemId, scored.Total, scored.BestSource, scored.Reason));
        }

        ranked.Sort(HighestFirst);
        if (ranked.Count > query.K)
        {
            ranked.RemoveRange(query.K, ranked.Count - query.K);
        }

        return ranked;
    }

    /// <summary>
    /// The list <see cref="Merge"/> and the sort give for a single source that found at least k servable candidates,
    /// read off its best-first order: exclusions are checked only until k are taken (and any tied with the k-th), not
    /// for every candidate asked for (each check looks the item up in the catalogue), and nothing is merged; it relies
    /// on a source listing each item once (<see cref="ICandidateSource"/>). Null when the shortcut does not hold — too
    /// few (the fallbacks answer), out of order or a NaN — and the general path runs.
    /// </summary>
    private static List<RankedItem>? FirstOfOne(List<Candidate> candidates, string source, double weight, int k, Func<string, bool> isExcluded)
    {
        if (weight <= 0 || k <= 0)
        {
            return null;
        }

        var best = ScaleOf(candidates);
        var taken = new List<RankedItem>(k + 1);
        var previous = double.PositiveInfinity;
        foreach (var candidate in candidates)
        {
            var contribution = weight * candidate.Score / best;
            if (double.IsNaN(contribution) || contribution > previous)
            {
                return null;
            }

            previous = contribution;
            if (taken.Count >= k && contribution < taken[k - 1].Score)
            {
                break; // below the k-th: nothing further can enter the list
            }

            if (isExcluded(candidate.ItemId))
            {
                continue;
            }

            taken.Add(new RankedItem(candidate.ItemId, contribution, source, candidate.Reason));
        }

        if (taken.Count < k)
        {
            return null;
        }

        taken.Sort(HighestFirst);
        taken.RemoveRange(k, taken.Count - k);
        return taken;
    }

    /// <summary>The final order: highest score first, a tie to the lower id (ordinal).</summary>
    private static readonly Comparison<RankedItem> HighestFirst =
        static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.ItemId, b.ItemId);

    /// <summary>What a source's scores are divided by: its best score, or 1 when none is positive.</summary>
    private static double ScaleOf(List<Candidate> candidates)
    {
        var best = 0.0;
        foreach (var candidate in candidates)
        {
            best = Math.Max(best, candidate.Score);
        }

        return best <= 0 ? 1 : best;
    }

    private static void Merge(
        Dictionary<string, Scored> merged,
        List<Candidate> candidates,
        string source,
        double weight,
        Func<string, bool> isExcluded,
        double offset = 0,
        bool onlyNew = false)
    {
        var best = ScaleOf(candidates);

        foreach (var candidate in candidates)
        {
            if (isExcluded(candidate.ItemId))
            {
                continue;
            }

            var contribution = weight * candidate.Score / best;
            if (merged.TryGetValue(candidate.ItemId, out var scored))
            {
                if (onlyNew)
                {
                    continue;
                }

                scored.Total += contribution;
                if (contribution > scored.BestContribution)
                {
                    scored.BestContribution = contribution;
                    scored.BestSource = source;
                    scored.Reason = candidate.Reason;
                }
            }
            else
            {
                merged[candidate.ItemId] = new Scored
                {
                    Total = offset + contribution,
                    BestContribution = contribution,
                    BestSource = source,
                    Reason = candidate.Reason,
                };
            }
        }
    }

    private sealed class Scored
    {
        public double Total;
        public double BestContribution;
        public required string BestSource;
        public required string Reason;
    }
}
