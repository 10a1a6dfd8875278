namespace SessionRec.Models.Serving;

using SessionRec.Models.Baseline;

/// <summary>
/// Multi-round retrieval's serving loop (Ada-Retrieval), shared by the catalogue grain and the benchmarks: round 1
/// scores with the session encoder's vector; each later round runs the round encoder on the items earlier rounds
/// retrieved, the previous user vector and GRU state; every round takes the top <see cref="MultiRoundSettings.PerRound"/>
/// with earlier rounds' items and the exclusions masked, as `sessionrec eval recs` retrieves: from a full scan, or for
/// from the approximate index's candidates scored exactly when the catalogue has one.
/// </summary>
public static class MultiRoundRetrieval
{
    /// <summary>Where the rounds start: nothing retrieved yet (round 1 next), or a continued state's rounds.</summary>
    /// <param name="Retrieved">Earlier rounds' items, round by round.</param>
    /// <param name="Rounds">Rounds already run.</param>
    /// <param name="User">The last round's raw user vector (round 1's from the session encoder before round 2).</param>
    /// <param name="GruState">The user adapter's GRU state (zeros before round 2).</param>
    public sealed record Start(IReadOnlyList<string> Retrieved, int Rounds, float[] User, float[] GruState)
    {
        public static Start Fresh(float[] user) => new([], 0, user, new float[user.Length]);
    }

    /// <param name="Retrieved">Every round's items so far, round by round (the start's first).</param>
    /// <param name="FirstRoundScores">session · item for every index row when this call ran round 1 by a full scan (the ranking
    /// stage reuses it instead of scanning again); null otherwise.</param>
    public sealed record Result(IReadOnlyList<string> Retrieved, int Rounds, float[] User, float[] GruState, float[]? FirstRoundScores);

    /// <summary>Runs up to <paramref name="rounds"/> rounds after <paramref name="start"/>; stops early when the catalogue runs out.</summary>
    /// <param name="input">The session's item vectors as the session encoder took them; <paramref name="length"/> items.</param>
    /// <param name="firstSession">Round 1's session vector as scored (the session encoder's <c>session</c> output).</param>
    public static Result Run(OnnxRecommenderModel model, MultiRoundSettings settings, ItemVectorIndex index, float[] input, int length, float[] firstSession, Start start, int rounds, Func<string, bool> isExcluded)
    {
        var retrieved = start.Retrieved.ToList();
        var done = start.Rounds;
        var (user, gru) = (start.User, start.GruState);
        var taken = new HashSet<int>();
        foreach (var id in retrieved)
        {
            if (index.TryGetRow(id, out var row))
            {
                taken.Add(row);
            }
        }

        var scores = Array.Empty<float>();
        float[]? firstRoundScores = null;

        // Every round searches the approximate index when one describes nearly every row (as the ranking stage does;
        // it then retrieves its own candidates instead of reusing round 1's scan). Without an index every round scans.
        var ann = index.ServingAnn;
        var dim = model.Dim;
        for (var r = 0; r < rounds; r++)
        {
            float[] vector;
            if (done == 0)
            {
                vector = firstSession;
            }
            else
            {
                var memory = new float[retrieved.Count * dim];
                for (var p = 0; p < retrieved.Count; p++)
                {
                    index.TryGetRow(retrieved[p], out var row);
                    index.Vector(row).CopyTo(memory.AsSpan(p * dim, dim));
                }

                // Later rounds run the round encoder on the caller's thread (~80 µs at d = 64): they are sequential
                // within a request and rarely share a batch, and a hand-off to a batching thread and back cost more
                // than the call (README, "Multi-round retrieval").
                (vector, user, gru) = model.EncodeRound(input, 1, length, [length - 1], memory, retrieved.Count, user, gru);
            }

            List<int> picked;
            if (ann is null || PickFromAnn(index, ann, vector, settings.PerRound, taken, isExcluded) is not { } found)
            {
                // The index can grow between calls (items upserted): scores are sized per round.
                var count = index.Count;
                if (scores.Length < count)
                {
                    scores = new float[count];
                }

                var span = scores.AsSpan(0, count);
                index.Score(vector, span);
                if (done == 0)
                {
                    firstRoundScores = span.ToArray();
                }

                picked = Pick(index, span, settings.PerRound, taken, isExcluded);
            }
            else
            {
                picked = found;
            }

            if (picked.Count < settings.PerRound)
            {
                break; // the catalogue has run out of items for a whole round
            }

            foreach (var row in picked)
            {
                taken.Add(row);
                retrieved.Add(index.IdOf(row));
            }

            done++;
        }

        return new Result(retrieved, done, user, gru, firstRoundScores);
    }

    /// <summary>The top <paramref name="perRound"/> rows of a full scan's <paramref name="scores"/>, earlier rounds' rows and exclusions left out.</summary>
    private static List<int> Pick(ItemVectorIndex index, Span<float> scores, int perRound, HashSet<int> taken, Func<string, bool> isExcluded)
    {
        var count = scores.Length;
        foreach (var row in taken)
        {
            if (row < count)
            {
                scores[row] = float.NegativeInfinity;
            }
        }

        var picked = new List<int>(perRound);
        for (var fetch = perRound * 2; picked.Count < perRound; fetch *= 4)
        {
            picked.Clear();
            foreach (var (row, score) in TopK.Select(scores, Math.Min(fetch, count)))
            {
                if (picked.Count < perRound && !double.IsNegativeInfinity(score) && !isExcluded(index.IdOf(row)))
                {
                    picked.Add(row);
                }
            }

            if (fetch >= count)
            {
                break;
            }
        }

        return picked;
    }

    /// <summary>
    /// A round from the approximate index: its nearest rows to <paramref name="vector"/>, the rows it no longer
    /// describes (changed or added since its build), scored exactly; the top <paramref name="perRound"/> not taken
    /// by an earlier round nor excluded. The search widens (×4) while exclusions leave too few; null when even the
    /// whole index cannot fill the round, or the index was replaced meanwhile (the caller scans).
    /// </summary>
    public static List<int>? PickFromAnn(ItemVectorIndex index, ItemVectorIndex.AnnView ann, float[] vector, int perRound, IReadOnlySet<int> taken, Func<string, bool> isExcluded)
    {
        var count = index.Count;
        for (var fetch = taken.Count + (perRound * 4); ; fetch *= 4)
        {
            HashSet<int> candidates;
            try
            {
                candidates = ann.Candidates(index, vector, Math.Min(fetch, ann.Index.Rows), count);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }

            var scored = new List<ulong>(candidates.Count);
            foreach (var row in candidates)
            {
                if (row < count && !taken.Contains(row) && !isExcluded(index.IdOf(row)))
                {
                    scored.Add(Baseline.RankKey.Of(index.ScoreRow(vector, row), row));
                }
            }

            if (scored.Count >= perRound)
            {
                scored.Sort(); // highest first, a tie to the lower row, as in the full scan
                return [.. scored.Take(perRound).Select(Baseline.RankKey.Item)];
            }

            if (fetch >= ann.Index.Rows)
            {
                return null;
            }
        }
    }
}
