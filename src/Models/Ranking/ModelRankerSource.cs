namespace SessionRec.Models.Ranking;

using System.Buffers;
using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Serving;

/// <summary>
/// The production ranking stage as a candidate source: for every catalogue item, the model's score (session
/// vector · item vector) plus, over the last three session items (nearer items weighing more), the co-occurrence
/// weight × log(1 + how often the item followed) and the item-kNN weight × cosine similarity of the two items'
/// sessions, plus the popularity weight × log(1 + interactions), plus the new-item weight for items nobody has
/// interacted with yet (they lack every other term; tuned so they can still compete), plus the session-kNN weight ×
/// the votes of the most similar recent sessions (<see cref="SessionNeighbours"/>) — the formula `sessionrec
/// eval recs` measures as "ranker", with the weights `sessionrec train` tuned on validation. Built per request
/// around one session vector.
/// </summary>
/// <param name="tables">The per-item lookups of this index and snapshot, when the caller keeps them between requests;
/// null computes them from <paramref name="statistics"/>.</param>
/// <param name="rounds">Multi-round retrieval's candidates: index row → the round (1-based) that found it; each
/// adds the multi-round weight × <see cref="Membership"/>.</param>
/// <param name="trainedRounds">The rounds the model was trained for (T in the membership term).</param>
/// <param name="sessionScores">session · item for every index row, when the caller already scanned with this
/// session vector (multi-round retrieval's round 1); the source then adds to it in place instead of scanning again.</param>
/// <param name="annCandidates">With an approximate index attached to <paramref name="index"/> (large catalogues), how
/// many rows it retrieves; those, the rows it no longer describes, and every row a sparse or multi-round term names
/// are scored exactly (the same formula), instead of every row.</param>
public sealed class ModelRankerSource(ItemVectorIndex index, float[] session, InteractionStatistics? statistics, FusionWeights weights, RankingTables? tables = null, int lookback = 3, IReadOnlyDictionary<int, int>? rounds = null, int trainedRounds = 1, float[]? sessionScores = null, int annCandidates = 400) : ICandidateSource
{
    /// <summary>
    /// The multi-round term of an item found in round r of T: 1 − (r − 1)/T, as `sessionrec eval recs` tunes it;
    /// rounds past T (a client asking for more pages) keep the last trained round's 1/T.
    /// </summary>
    public static float Membership(int round, int trainedRounds) =>
        1f - ((float)(Math.Min(round, trainedRounds) - 1) / Math.Max(1, trainedRounds));

    public const string SourceName = "model";

    public string Name => SourceName;

    public void Collect(CandidateQuery query, int limit, List<Candidate> into)
    {
        // Candidates only while the approximate index describes nearly every row (ItemVectorIndex.ServingAnn).
        if (sessionScores is null && index.ServingAnn is { } ann)
        {
            try
            {
                CollectCandidates(query, limit, into, ann);
                return;
            }
            catch (ObjectDisposedException)
            {
                // The approximate index was replaced while this request held it (it adds nothing before its search):
                // scan every row instead.
            }
        }

        // The scores of every item are the one buffer proportional to the catalogue: rented, never allocated per
        // request (at 100k items it would be a 400 KB large-object allocation each time).
        var count = index.Count;
        float[]? rented = null;
        float[]? rentedBounds = null;
        Span<float> scores;
        Span<float> bounds = default;
        if (sessionScores is not null && sessionScores.Length == count)
        {
            scores = sessionScores;
        }
        else
        {
            rented = ArrayPool<float>.Shared.Rent(Math.Max(1, count));
            rentedBounds = ArrayPool<float>.Shared.Rent(Math.Max(1, count));
            scores = rented.AsSpan(0, count);

            // The int8 first pass reads a quarter of the bytes; the rows it cannot rule out are rescored exactly.
            if (index.ScoreBounded(session, scores, rentedBounds.AsSpan(0, count)))
            {
                bounds = rentedBounds.AsSpan(0, count);
            }
            else
            {
                index.Score(session, scores);
            }
        }

        try
        {
            Rank(query, limit, into, scores, bounds);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
                ArrayPool<float>.Shared.Return(rentedBounds!);
            }
        }
    }

    /// <param name="bounds">Empty when <paramref name="scores"/> are the exact scan's; else how far each approximate
    /// score may lie from it (<see cref="ItemVectorIndex.ScoreBounded"/>), and the rows that may reach the top are rescored.</param>
    private void Rank(CandidateQuery query, int limit, List<Candidate> into, Span<float> scores, Span<float> bounds)
    {
        var lookups = Lookups();
        float[]? prior = null;
        if (lookups is not null && (weights.Popularity != 0 || weights.NewItem != 0))
        {
            var terms = prior = lookups.PriorTerms(weights.Popularity, weights.NewItem);
            var covered = scores[..Math.Min(terms.Length, scores.Length)];
            System.Numerics.Tensors.TensorPrimitives.Add(covered, terms.AsSpan(0, covered.Length), covered);
            for (var row = terms.Length; row < scores.Length; row++)
            {
                scores[row] += weights.NewItem; // added to the index after the prior was computed: new
            }

            if (!bounds.IsEmpty)
            {
                // The sums round in proportion to their terms, not only to their result (a negative prior can cancel):
                // every bound widens by two millionths of the largest prior term (and below, a row's by its other terms).
                var largest = MathF.Max(terms.Length == 0 ? 0 : MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(terms)), MathF.Abs(weights.NewItem));
                System.Numerics.Tensors.TensorPrimitives.Add(bounds, 2e-6f * largest, bounds);
            }
        }

        if (rounds is not null && weights.MultiRound != 0)
        {
            foreach (var (row, round) in rounds)
            {
                if (row < scores.Length)
                {
                    var term = weights.MultiRound * Membership(round, trainedRounds);
                    scores[row] += term;
                    if (!bounds.IsEmpty)
                    {
                        bounds[row] += 2e-6f * MathF.Abs(term);
                    }
                }
            }
        }

        // The sparse terms of a row are summed apart, in the order they come, then added to its score: in a
        // per-row buffer here (a few thousand rows a request; dictionaries cost a tenth of the ranking stage).
        var sums = ArrayPool<float>.Shared.Rent(Math.Max(1, scores.Length));
        var named = ArrayPool<bool>.Shared.Rent(Math.Max(1, scores.Length));
        try
        {
            Array.Clear(sums, 0, scores.Length);
            Array.Clear(named, 0, scores.Length);
            if (lookups is not null)
            {
                var sink = new RowSums(sums, named, []);
                AddSparse(query, lookups, scores.Length, ref sink);
                foreach (var row in sink.Rows)
                {
                    scores[row] += sums[row];
                    if (!bounds.IsEmpty)
                    {
                        bounds[row] += 2e-6f * MathF.Abs(sums[row]);
                    }
                }
            }

            if (bounds.IsEmpty)
            {
                foreach (var (row, score) in TopK.Select(scores, limit))
                {
                    into.Add(Emit(row, score, named[row]));
                }
            }
            else
            {
                var rescore = new ExactRows(index, session, prior, weights, rounds, trainedRounds, sums, named);
                foreach (var (row, score) in BoundedTopK.Select(scores, bounds, limit, rescore))
                {
                    into.Add(Emit(row, score, named[row]));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sums);
            ArrayPool<bool>.Shared.Return(named);
        }
    }

    /// <summary>A row's full score as <see cref="Rank"/> sums it over the exact scan: the same terms in the same order.</summary>
    private readonly struct ExactRows(ItemVectorIndex index, float[] session, float[]? prior, FusionWeights weights, IReadOnlyDictionary<int, int>? rounds, int trainedRounds, float[] sums, bool[] named) : BoundedTopK.IExactScores
    {
        public float Score(int row)
        {
            var score = index.ScoreRow(session, row);
            if (prior is not null)
            {
                score += row < prior.Length ? prior[row] : weights.NewItem;
            }

            if (rounds is not null && weights.MultiRound != 0 && rounds.TryGetValue(row, out var round))
            {
                score += weights.MultiRound * Membership(round, trainedRounds);
            }

            return named[row] ? score + sums[row] : score;
        }
    }

    /// <summary>
    /// The ranking over candidates: the approximate index's nearest rows, the rows it no longer describes, and every
    /// row a sparse or multi-round term names, each scored with the full formula. Exact for the rows it scores; a row
    /// the index missed and no other term names is not scored.
    /// </summary>
    private void CollectCandidates(CandidateQuery query, int limit, List<Candidate> into, ItemVectorIndex.AnnView ann)
    {
        var count = index.Count;
        var lookups = Lookups();

        // The rows a sparse term names (hundreds with session-kNN votes) with their sums; multi-round terms apart. The
        // set and the sums are this thread's, cleared and reused: allocated per request they were most of what a
        // request at 100k items left to the collector (~40 KB). Their size is bounded by what one request's terms
        // name (lookback × neighbours + session-kNN's K × MaxLength votes), not by the catalogue.
        var scratch = t_scratch ??= new Scratch();
        var sparse = scratch.Sparse;
        var candidates = scratch.Candidates;
        sparse.Clear();
        candidates.Clear();
        if (lookups is not null)
        {
            var sink = new DictionarySums(sparse);
            AddSparse(query, lookups, count, ref sink);
        }

        var multiRound = rounds is not null && weights.MultiRound != 0 ? rounds : null;

        // The index retrieves a fixed number of rows, as `eval recs` measures ranker-candidates: asking it for as many
        // more as the sparse terms name made a request's cost follow the statistics, and those rows are candidates anyway.
        ann.AddCandidates(index, session, Math.Max(annCandidates, limit), count, candidates);

        // Every row once, in one array: the rows the sparse terms name (with their sums, read off the table instead of
        // looked up), then the index's rows they do not name, then multi-round rows named by neither. Collected apart
        // from the scoring so that the scoring loop can ask for a row's memory a few rows before it reads it.
        var total = sparse.Count + candidates.Count + (multiRound?.Count ?? 0);
        var rows = scratch.Rows(total);
        var sums = scratch.Sums(sparse.Count);
        var n = 0;
        foreach (var (row, terms) in sparse)
        {
            sums[n] = terms;
            rows[n++] = row;
        }

        var named = n;
        foreach (var row in candidates)
        {
            if (row < count && !sparse.ContainsKey(row))
            {
                rows[n++] = row;
            }
        }

        if (multiRound is not null)
        {
            foreach (var row in multiRound.Keys)
            {
                if (row < count && !sparse.ContainsKey(row) && !candidates.Contains(row))
                {
                    rows[n++] = row;
                }
            }
        }

        var prior = lookups is not null && (weights.Popularity != 0 || weights.NewItem != 0) ? lookups.Prior : null;
        var scored = ArrayPool<ulong>.Shared.Rent(Math.Max(1, n));
        try
        {
            for (var i = 0; i < n; i++)
            {
                // At 1M items these rows lie anywhere in 256 MB of vectors: each read missed the cache in turn (measured
                // in the service, requests alternating: 1,300 rows in 145 µs without the hint, 100 µs with it).
                if (i + PrefetchAhead < n)
                {
                    var ahead = rows[i + PrefetchAhead];
                    index.Prefetch(ahead);
                    if (prior is not null)
                    {
                        CacheHints.Prefetch(prior, ahead);
                    }
                }

                var row = rows[i];
                var score = index.ScoreRow(session, row);
                if (multiRound is not null && multiRound.TryGetValue(row, out var round))
                {
                    score += weights.MultiRound * Membership(round, trainedRounds);
                }

                if (i < named)
                {
                    score += sums[i];
                }

                if (prior is not null)
                {
                    score += row < prior.Length && prior[row] != 0 ? weights.Popularity * prior[row] : weights.NewItem;
                }

                scored[i] = RankKey.Of(score, row);
            }

            var best = scored.AsSpan(0, n);
            RankKey.SortBest(best, limit); // highest first, a tie to the lower row, as in the full scan
            foreach (var key in best[..Math.Min(limit, n)])
            {
                into.Add(Emit(RankKey.Item(key), RankKey.Score(key), sparse.ContainsKey(RankKey.Item(key))));
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(scored);
        }
    }

    /// <summary>How many rows ahead the candidate scoring asks for a row's memory (8 and 16 measured the same).</summary>
    private const int PrefetchAhead = 8;

    [ThreadStatic]
    private static Scratch? t_scratch;

    /// <summary>A thread's reusable candidate set, sparse sums and row list (<see cref="CollectCandidates"/> runs without awaiting).</summary>
    private sealed class Scratch
    {
        private int[] _rows = [];
        private float[] _sums = [];

        public Dictionary<int, float> Sparse { get; } = [];

        public HashSet<int> Candidates { get; } = [];

        /// <summary>At least <paramref name="length"/> slots for rows (grown, never shrunk: bounded by one request's terms).</summary>
        public int[] Rows(int length) => _rows.Length >= length ? _rows : _rows = new int[Math.Max(length, 2 * _rows.Length)];

        /// <summary>At least <paramref name="length"/> slots for the sparse sums of named rows.</summary>
        public float[] Sums(int length) => _sums.Length >= length ? _sums : _sums = new float[Math.Max(length, 2 * _sums.Length)];
    }

    /// <summary>
    /// The co-occurrence and item-kNN terms over the last <c>lookback</c> session items (nearer ones weigh more), and the
    /// session-kNN term over the session's items (<see cref="SessionNeighbours"/>), per row they name (rows below <paramref name="rows"/>), summed into <paramref name="into"/>.
    /// </summary>
    private void AddSparse<TSums>(CandidateQuery query, RankingTables lookups, int rows, ref TSums into)
        where TSums : struct, ISparseSums
    {
        if (statistics is null || (weights.Cooccurrence <= 0 && weights.ItemKnn <= 0 && weights.SessionKnn <= 0))
        {
            return;
        }

        if (weights.SessionKnn > 0 && statistics.Neighbours.Count > 0)
        {
            var known = new List<int>(query.SessionItems.Count);
            foreach (var id in query.SessionItems)
            {
                if (statistics.TryGetIndex(id, out var item))
                {
                    known.Add(item);
                }
            }

            var votes = new RowVotes<TSums>(lookups.RowOf, rows, into);
            statistics.Neighbours.Score(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(known), ref votes, weights.SessionKnn);
        }

        var anchors = 0;
        for (var i = query.SessionItems.Count - 1; i >= 0 && anchors < lookback; i--)
        {
            if (!statistics.TryGetIndex(query.SessionItems[i], out var anchor))
            {
                continue;
            }

            var nearness = 1f / ++anchors;
            if (weights.Cooccurrence > 0)
            {
                foreach (var (item, count) in statistics.After(anchor))
                {
                    if (lookups.RowOf[item] is var row and >= 0 && row < rows)
                    {
                        into.Add(row, nearness * weights.Cooccurrence * MathF.Log(1 + count));
                    }
                }
            }

            if (weights.ItemKnn > 0)
            {
                var anchorCount = statistics.Count(anchor);
                foreach (var (item, together) in statistics.Together(anchor))
                {
                    if (lookups.RowOf[item] is var row and >= 0 && row < rows)
                    {
                        into.Add(row, nearness * weights.ItemKnn * together / MathF.Sqrt(anchorCount * statistics.Count(item)));
                    }
                }
            }
        }
    }

    /// <summary>Where <see cref="AddSparse"/> sums each row's sparse terms (each row's sum in the order its terms come).</summary>
    private interface ISparseSums
    {
        void Add(int row, float value);
    }

    /// <summary>Sums in per-row buffers (cleared, catalogue-sized, rented), the rows named kept in first-named order.</summary>
    private readonly struct RowSums(float[] sums, bool[] named, List<int> rows) : ISparseSums
    {
        public List<int> Rows => rows;

        public void Add(int row, float value)
        {
            if (!named[row])
            {
                named[row] = true;
                rows.Add(row);
            }

            sums[row] += value;
        }
    }

    /// <summary>Session-kNN votes per item, summed into the rows of the items this index holds (rows below <paramref name="rows"/>).</summary>
    private readonly struct RowVotes<TSums>(int[] rowOf, int rows, TSums into) : SessionNeighbours.IVotes
        where TSums : struct, ISparseSums
    {
        public void Add(int item, float vote)
        {
            if (rowOf[item] is var row and >= 0 && row < rows)
            {
                into.Add(row, vote);
            }
        }

        /// <summary>The item's entry of the row table (at 1M items a 4 MB table that a thousand votes read anywhere in).</summary>
        public void Prefetch(int item) => CacheHints.Prefetch(rowOf, item);
    }

    /// <summary>Sums in a dictionary (the candidate path, which scores about a thousand rows — the index's 400 and those the terms name — not the catalogue).</summary>
    private readonly struct DictionarySums(Dictionary<int, float> sums) : ISparseSums
    {
        public void Add(int row, float value) => System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, row, out _) += value;
    }

    /// <summary>The caller's tables when they still describe this index and snapshot, else built now (null: no statistics).</summary>
    private RankingTables? Lookups() =>
        statistics is null ? null : tables is not null && tables.Describe(index, statistics) ? tables : RankingTables.Build(index, statistics);

    private Candidate Emit(int row, double score, bool boosted)
    {
        var reason = boosted ? "fits the session; often chosen after its items" : "fits the session";
        if (rounds is not null && rounds.TryGetValue(row, out var round))
        {
            reason = RoundReason(round) + (boosted ? "; often chosen after its items" : "");
        }

        return new Candidate(index.IdOf(row), score, reason);
    }

    /// <summary>The reason text of an item multi-round retrieval found.</summary>
    public static string RoundReason(int round) => round == 1
        ? "fits the session (found in round 1 of multi-round retrieval)"
        : $"fits the session, found in round {round} of multi-round retrieval (after the items of earlier rounds)";
}

/// <summary>Multi-round retrieval's list as it is (a model without fusion weights): round 1's items, then round 2's, …</summary>
public sealed class RetrievedListSource(IReadOnlyList<(string ItemId, int Round)> items) : ICandidateSource
{
    public string Name => ModelRankerSource.SourceName;

    public void Collect(CandidateQuery query, int limit, List<Candidate> into)
    {
        for (var p = 0; p < Math.Min(limit, items.Count); p++)
        {
            into.Add(new Candidate(items[p].ItemId, items.Count - p, ModelRankerSource.RoundReason(items[p].Round)));
        }
    }
}
