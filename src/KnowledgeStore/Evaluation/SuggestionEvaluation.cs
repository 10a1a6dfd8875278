namespace SessionRec.KnowledgeStore.Evaluation;

using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.KnowledgeStore.Text;

/// <summary>One held-out next query: the session so far, the user's earlier history, and the query that came next.</summary>
public sealed record NextQueryCase(QuerySession Session, int Index, string Target)
{
    public IReadOnlyList<LoggedQuery> Before => Session.Queries.Take(Index).ToList();
}

/// <summary>Per held-out case, the method's top suggestions and their scores against the true next query.</summary>
public sealed record CaseResult(NextQueryCase Case, int PrefixLength, IReadOnlyList<string> Suggestions, double ReciprocalRank, double Cosine, double Rouge1);

/// <summary>
/// Next-query prediction on held-out sessions: sessions (30 minutes of inactivity) are split chronologically —
/// the sessions starting in the last 20% of the log's time span are held out — and every query after the first
/// of a held-out session is a target, predicted from the session before it, the user's history before the
/// session and the first <c>L</c> characters of the target (L = 0..3; targets no longer than L are skipped).
/// Methods: <c>mpc</c> (most popular completion of the prefix in the training log), <c>suggest-nonpersonal</c>
/// (the suggestion pipeline given only the prefix) and <c>suggest-personal</c> (the pipeline with the user's
/// knowledge store — their earlier sessions and this session's queries and opened results — and the session).
/// </summary>
public sealed class SuggestionEvaluation
{
    public const string Mpc = "mpc";
    public const string NonPersonal = "suggest-nonpersonal";
    public const string Personal = "suggest-personal";
    public const int K = 10;

    private readonly ITextEncoder _encoder;
    private readonly EntityGraph _graph;
    private readonly QueryLog _log = new();
    private readonly SuggestionEngine _engine;
    private readonly IReadOnlyList<QuerySession> _train;
    private readonly Dictionary<string, List<QuerySession>> _trainByUser;

    /// <param name="interleaved">Hold out every n-th session in time order (n = 1 / <paramref name="heldOutShare"/>)
    /// instead of the last sessions: logs whose late sessions are single queries still evaluate. The query log and
    /// graph then come from every other session, later ones included; a user's knowledge only from earlier ones.</param>
    public SuggestionEvaluation(IReadOnlyList<QuerySession> sessions, ITextEncoder encoder, double heldOutShare = 0.2, bool interleaved = false)
    {
        _encoder = encoder;
        var ordered = sessions.Where(s => s.Queries.Count > 0).OrderBy(s => s.Start).ToList();
        if (ordered.Count < 2)
        {
            throw new ArgumentException("The log needs at least two sessions to split.");
        }

        if (interleaved)
        {
            var every = Math.Max(2, (int)Math.Round(1 / heldOutShare));
            _train = ordered.Where((_, i) => i % every != every - 1).ToList();
            Test = ordered.Where((_, i) => i % every == every - 1).ToList();
        }
        else
        {
            var first = ordered[0].Start;
            var last = ordered.Max(s => s.Start);
            var cut = first + ((last - first) * (1 - heldOutShare));
            _train = ordered.Where(s => s.Start < cut).ToList();
            Test = ordered.Where(s => s.Start >= cut).ToList();
        }

        _trainByUser = _train.GroupBy(s => s.UserId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        // The graph of a query log is its frequent phrases (and the titles users opened), from training only.
        _graph = new EntityGraph(minPhraseCount: 2);
        _graph.AddTexts(_train.SelectMany(s => s.Queries).SelectMany(q => q.ClickedTitles.Prepend(q.Text)));
        foreach (var session in _train)
        {
            string? previous = null;
            foreach (var q in session.Queries)
            {
                _log.Add(q.Text, q.At, previous);
                previous = q.Text;
            }
        }

        _engine = new SuggestionEngine(_graph, new EntityLinker(_graph, encoder), _log);
        Cases = Test.SelectMany(s => Enumerable.Range(1, s.Queries.Count - 1).Select(i => new NextQueryCase(s, i, s.Queries[i].Text))).ToList();
    }

    public IReadOnlyList<QuerySession> Test { get; }

    public IReadOnlyList<NextQueryCase> Cases { get; }

    public int TrainSessions => _train.Count;

    public int GraphEntities => _graph.Count;

    /// <summary>Whether a target occurs in the training log (the exact-match ceiling of any method that retrieves logged queries).</summary>
    public bool SeenInTraining(string target) => _log.Get(TextNormalizer.Normalize(target)) is not null;

    public IReadOnlyList<CaseResult> Run(string method, int prefixLength, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new List<CaseResult>();
        foreach (var c in Cases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = TextNormalizer.Normalize(c.Target);
            if (target.Length <= prefixLength)
            {
                continue;
            }

            var prefix = target[..prefixLength];
            var now = c.Session.Queries[c.Index].At;
            var suggestions = method switch
            {
                Mpc => _log.TopCompletions(prefix, K).Select(q => q.Text).ToList(),
                NonPersonal => _engine.Suggest(SuggestionContext.ForPrefix(prefix, now), null, K).Select(s => s.Text).ToList(),
                Personal => _engine.Suggest(new SuggestionContext(prefix, c.Before.Select(q => q.Text).ToList(), c.Before.LastOrDefault()?.ClickedTitles.LastOrDefault(), now), Knowledge(c), K).Select(s => s.Text).ToList(),
                _ => throw new ArgumentException($"Unknown method '{method}'."),
            };
            results.Add(Score(c, prefixLength, suggestions));
            progress?.Report(results.Count);
        }

        return results;
    }

    /// <summary>The user's knowledge store at the moment of the case: earlier training sessions, then this session's queries and opened results.</summary>
    public UserKnowledge Knowledge(NextQueryCase c)
    {
        var linker = new EntityLinker(_graph);
        var knowledge = new UserKnowledge(new KnowledgeOptions { Retention = TimeSpan.FromDays(3650) });
        var history = _trainByUser.GetValueOrDefault(c.Session.UserId) ?? [];
        foreach (var q in history.Where(s => s.Start < c.Session.Start).SelectMany(s => s.Queries).Concat(c.Before))
        {
            knowledge.Add(new MemoryRecord(q.At, KnowledgeSource.Searched, q.Text, null, Mentions(linker, q.Text)));
            foreach (var title in q.ClickedTitles)
            {
                knowledge.Add(new MemoryRecord(q.At, KnowledgeSource.Clicked, title, null, Mentions(linker, title)));
            }
        }

        return knowledge;
    }

    private static List<EntityMention> Mentions(EntityLinker linker, string text) =>
        [.. linker.Link(text, semantic: false).Select(l => new EntityMention(l.Entity.Id, l.Entity.Name))];

    private CaseResult Score(NextQueryCase c, int prefixLength, IReadOnlyList<string> suggestions)
    {
        var target = TextNormalizer.Normalize(c.Target);
        var rank = suggestions.Select(TextNormalizer.Normalize).ToList().IndexOf(target);
        var cosine = 0.0;
        if (suggestions.Count > 0)
        {
            var vectors = _encoder.Encode([target, .. suggestions.Select(TextNormalizer.Normalize)]);
            cosine = vectors.Skip(1).Max(v => (double)Vectors.Dot(vectors[0], v));
        }

        var rouge = suggestions.Count == 0 ? 0 : suggestions.Max(s => Rouge1F(s, c.Target));
        return new CaseResult(c, prefixLength, suggestions, rank >= 0 ? 1.0 / (rank + 1) : 0, cosine, rouge);
    }

    /// <summary>ROUGE-1 F: the harmonic mean of unigram precision and recall (clipped counts, normal-form words).</summary>
    public static double Rouge1F(string candidate, string reference)
    {
        var c = TextNormalizer.Tokens(candidate).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var r = TextNormalizer.Tokens(reference).GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var overlap = c.Sum(kv => Math.Min(kv.Value, r.GetValueOrDefault(kv.Key)));
        if (overlap == 0)
        {
            return 0;
        }

        var precision = (double)overlap / c.Values.Sum();
        var recall = (double)overlap / r.Values.Sum();
        return 2 * precision * recall / (precision + recall);
    }
}
