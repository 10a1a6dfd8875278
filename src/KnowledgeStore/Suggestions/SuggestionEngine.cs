namespace SessionRec.KnowledgeStore.Suggestions;

using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Text;

/// <summary>Where a suggestion came from (the API's <c>source</c>).</summary>
public static class SuggestionSources
{
    public const string Completion = "completion";
    public const string NextQuery = "next-query";
    public const string Entity = "entity";
    public const string Llm = "llm";
}

/// <summary>One suggestion: its text, source, the entities it is grounded in and a short rationale.</summary>
public sealed record Suggestion(string Text, string Source, IReadOnlyList<EntityMention> Entities, string Rationale, double Score);

/// <summary>What the user is doing: the typed prefix (maybe empty), the session's earlier queries, the current item or page.</summary>
public sealed record SuggestionContext(string Prefix, IReadOnlyList<string> SessionQueries, string? ContextText, DateTimeOffset Now)
{
    public static SuggestionContext ForPrefix(string prefix, DateTimeOffset now) => new(prefix, [], null, now);
}

/// <summary>Suggestions with what they were drawn from: the context's entities (prefix, page, session) and the user's retrieved entities.</summary>
public sealed record SuggestionOutcome(IReadOnlyList<Suggestion> Suggestions, IReadOnlyList<Entity> ContextEntities, IReadOnlyList<RetrievedEntity> PersonalEntities);

public sealed record SuggestionOptions
{
    public double CompletionWeight { get; init; } = 1.0;

    public double NextQueryWeight { get; init; } = 1.5;

    public double EntityWeight { get; init; } = 0.6;

    /// <summary>Weight of the personal re-ranking: word overlap with the user's entities and session.</summary>
    public double PersonalWeight { get; init; } = 1.0;

    /// <summary>Popularity of completions decays with the time since the query was last searched.</summary>
    public TimeSpan RecencyHalfLife { get; init; } = TimeSpan.FromDays(30);

    public RetrievalStrategy Strategy { get; init; } = RetrievalStrategy.Recency;

    public int PersonalEntities { get; init; } = 5;
}

/// <summary>
/// Query suggestions without an LLM: prefix completion over the tenant's query log (popularity with recency),
/// query-to-query transitions from the session's last query, and entity-grounded queries from the knowledge
/// graph (entity names, brand + category, category refinements, frequent co-occurring phrases) — then, when the
/// user's knowledge store is given, personal candidates from the entities it retrieves for the context and a
/// re-ranking by overlap with the user's entities and session. Without a store (the non-personalized pipeline)
/// only the prefix is used.
/// </summary>
public sealed class SuggestionEngine(EntityGraph graph, EntityLinker linker, IQueryStatistics log, SuggestionOptions? options = null, GroundedQueries? grounded = null)
{
    private readonly SuggestionOptions _options = options ?? new SuggestionOptions();
    private readonly GroundedQueries _grounded = grounded ?? new GroundedQueries(graph);

    public SuggestionOptions Options => _options;

    /// <summary>What is never suggested (swapped whole when an operator changes it).</summary>
    public SuggestionBlocklist Blocklist { get; set; } = SuggestionBlocklist.Empty;

    public IReadOnlyList<Suggestion> Suggest(SuggestionContext context, UserKnowledge? user, int k) => SuggestWithGrounds(context, user, k).Suggestions;

    /// <summary>The suggestions with what they were drawn from: the context's entities and the user's retrieved entities.</summary>
    public SuggestionOutcome SuggestWithGrounds(SuggestionContext context, UserKnowledge? user, int k)
    {
        var prefix = TextNormalizer.Normalize(context.Prefix);
        var last = user is null ? "" : TextNormalizer.Normalize(context.SessionQueries.LastOrDefault());
        var candidates = new Dictionary<string, Candidate>(StringComparer.Ordinal);

        // A request weighs a few hundred candidates and serves k: what only the served ones show (the rationale of a
        // completion, the entities' list) is made for those alone.
        void Add(string text, string source, double score, object rationale, IReadOnlyList<EntityMention>? entities = null, string? normalized = null, string[]? words = null)
        {
            var key = normalized ?? TextNormalizer.Normalize(text);
            if (key.Length == 0 || !key.StartsWith(prefix, StringComparison.Ordinal) || key == last || key == prefix && prefix.Length > 0 && source != SuggestionSources.Completion)
            {
                return;
            }

            if (!candidates.TryGetValue(key, out var c))
            {
                candidates[key] = c = new Candidate(text.Trim(), key, source, rationale) { Words = words };
            }
            else if (score > c.BestSourceScore)
            {
                (c.Source, c.Rationale) = (source, rationale);
            }

            c.BestSourceScore = Math.Max(c.BestSourceScore, score);
            c.Score += score;
            if (entities is not null)
            {
                c.Mention(entities);
            }
        }

        // 1. Completion over the query log: popularity (log-scaled) decayed by the time since last searched.
        var maxLog = Math.Log(1 + Math.Max(1, log.MaxCount));
        foreach (var stats in log.TopCompletions(prefix, 200))
        {
            var age = Math.Max(0, (context.Now - stats.LastSeen).TotalSeconds);
            var recency = Math.Pow(2, -age / _options.RecencyHalfLife.TotalSeconds);
            Add(stats.Text, SuggestionSources.Completion, _options.CompletionWeight * (Math.Log(1 + stats.Count) / maxLog) * (0.5 + (0.5 * recency)), stats, normalized: stats.Key, words: stats.Words);
        }

        // 2. Entity-grounded queries for the prefix's entities (and, personalised, the context's and the user's).
        var prefixLinks = linker.Link(context.Prefix);
        var contextLinks = prefixLinks.ToList();
        if (user is not null)
        {
            contextLinks.AddRange(linker.Link(context.ContextText));
            foreach (var q in context.SessionQueries.TakeLast(3))
            {
                contextLinks.AddRange(linker.Link(q, semantic: false));
            }
        }

        contextLinks = [.. contextLinks.DistinctBy(l => l.Entity.Id)];
        IReadOnlyList<RetrievedEntity> personal = [];
        foreach (var link in contextLinks.Take(8))
        {
            foreach (var query in _grounded.For(link.Entity))
            {
                Add(query.Text, SuggestionSources.Entity, _options.EntityWeight * link.Score * 0.8, query.Why, query.Entities, query.Key, query.Words);
            }
        }

        if (prefix.Length > 0 && prefixLinks.Count == 0)
        {
            // Nothing in the graph is named by the prefix yet: complete its last word with entity names.
            foreach (var entity in CompleteWord(prefix, 20))
            {
                // Past a space the name carries the words typed before it: those are not kept past the request.
                Add(entity.Name, SuggestionSources.Entity, _options.EntityWeight * 0.5, $"{Entity.KindName(entity.Kind)} in the catalogue", [new EntityMention(entity.Id, entity.Name)],
                    words: prefix.Contains(' ') ? TextNormalizer.ContentWords(entity.Name) : null);
            }
        }

        if (user is not null)
        {
            // 3. What people searched after the session's last query.
            if (last.Length > 0)
            {
                var next = log.Next(last);
                var total = Math.Max(1, next.Values.Sum());
                foreach (var (query, count) in next)
                {
                    Add(log.Find(query)?.Text ?? query, SuggestionSources.NextQuery, _options.NextQueryWeight * (0.3 + (0.7 * count / total)),
                        $"searched next by {count} shopper{(count == 1 ? "" : "s")} after \"{context.SessionQueries[^1]}\"");
                }
            }

            // 4. Refinements of the session's last query (the most common reformulation: adding words), with phrases
            //    that go with its entities.
            if (last.Length > 0)
            {
                var lastText = context.SessionQueries[^1].Trim();
                foreach (var link in linker.Link(lastText, semantic: false).Take(4))
                {
                    foreach (var (other, _) in graph.Related(link.Entity.Id).Where(r => r.Entity.Kind != EntityKind.Product).Take(6))
                    {
                        if (!last.Contains(TextNormalizer.Normalize(other.Name), StringComparison.Ordinal))
                        {
                            // A refinement holds the user's own query: its words are not kept past the request.
                            var refinement = $"{lastText} {other.Name}";
                            Add(refinement, SuggestionSources.Entity, _options.EntityWeight * 0.6,
                                $"narrows \"{lastText}\" with {other.Name}", [new EntityMention(link.Entity.Id, link.Entity.Name), new EntityMention(other.Id, other.Name)],
                                words: TextNormalizer.ContentWords(refinement));
                        }
                    }
                }
            }

            // 5. Personal entities retrieved for the context, and their grounded queries.
            var words = TextNormalizer.Tokens(string.Join(' ', context.SessionQueries.Append(context.Prefix).Append(context.ContextText ?? "")));
            personal = user.Retrieve(contextLinks.Select(l => l.Entity.Id).ToHashSet(StringComparer.Ordinal), words, _options.Strategy, context.Now, _options.PersonalEntities);
            foreach (var retrieved in personal)
            {
                var entity = graph.Get(retrieved.Entity.Id) ?? new Entity(retrieved.Entity.Id, EntityKind.Phrase, retrieved.Entity.Name);
                var why = $"you {Verb(retrieved.Entity)} {retrieved.Entity.Name}";
                Add(entity.Name, SuggestionSources.Entity, _options.EntityWeight, why, [new EntityMention(entity.Id, entity.Name)]);
                foreach (var query in _grounded.For(entity).Take(5))
                {
                    Add(query.Text, SuggestionSources.Entity, _options.EntityWeight * 0.7, why, query.Entities, query.Key, query.Words);
                }
            }

            // 6. Re-rank: overlap with the user's entities (by recency-weighted count) and with the session's words.
            //    Words of the user's entities weigh up to 0.5 (their recency-weighted share), the session's words 1.
            var profile = user.WordProfile(context.Now);
            var session = SessionWords(context);
            foreach (var c in candidates.Values)
            {
                var candidateWords = c.Words ??= CandidateWords.Of(c.Key);
                if (candidateWords.Length > 0)
                {
                    var sum = 0.0;
                    foreach (var word in candidateWords)
                    {
                        sum += session.Contains(word) ? 1 : profile.GetValueOrDefault(word);
                    }

                    c.Score += _options.PersonalWeight * sum / candidateWords.Length;
                }
            }
        }

        var best = Best(candidates.Values, k, Blocklist);
        var suggestions = new List<Suggestion>(best.Count);
        foreach (var c in best)
        {
            suggestions.Add(new Suggestion(c.Text, c.Source, c.Entities, Rationale(c.Rationale), Math.Round(c.Score, 6)));
        }

        return new SuggestionOutcome(suggestions, [.. contextLinks.Select(l => l.Entity)], personal);
    }

    /// <summary>
    /// The k best candidates the blocklist lets through, best first: the highest score, then the shorter text, then
    /// the text in ordinal order (a total order: no two candidates share a text). A request weighs a few hundred
    /// candidates for k of 5 to 20, so the k best are kept as they come instead of sorting them all, and the
    /// blocklist is asked only about those that would enter.
    /// </summary>
    private static List<Candidate> Best(IEnumerable<Candidate> candidates, int k, SuggestionBlocklist blocklist)
    {
        var top = new List<Candidate>(k + 1);
        if (k <= 0)
        {
            return top;
        }

        foreach (var c in candidates)
        {
            if (top.Count == k && !Ahead(c, top[^1]) || blocklist.Blocks(c.Text))
            {
                continue;
            }

            var at = top.Count;
            while (at > 0 && Ahead(c, top[at - 1]))
            {
                at--;
            }

            top.Insert(at, c);
            if (top.Count > k)
            {
                top.RemoveAt(k);
            }
        }

        return top;
    }

    private static bool Ahead(Candidate a, Candidate b) =>
        a.Score != b.Score ? a.Score > b.Score
        : a.Text.Length != b.Text.Length ? a.Text.Length < b.Text.Length
        : string.CompareOrdinal(a.Text, b.Text) < 0;

    private IEnumerable<Entity> CompleteWord(string prefix, int limit)
    {
        var lastSpace = prefix.LastIndexOf(' ');
        var head = lastSpace < 0 ? "" : prefix[..(lastSpace + 1)];
        return graph.NamesStartingWith(prefix[head.Length..], limit)
            .Select(e => head.Length == 0 ? e : e with { Name = head + TextNormalizer.Normalize(e.Name) });
    }

    /// <summary>The session's words (stop words aside), in singular form: each weighs 1 in the personal re-ranking.</summary>
    private static HashSet<string> SessionWords(SuggestionContext context)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in context.SessionQueries.Append(context.ContextText ?? ""))
        {
            words.UnionWith(TextNormalizer.ContentWords(text));
        }

        return words;
    }

    private static string Verb(EntityAggregate aggregate)
    {
        // The source that touched the entity last (the first of them on a tie, as sources are listed).
        KnowledgeSource? latest = null;
        var seen = DateTimeOffset.MinValue;
        foreach (var (source, stats) in aggregate.Sources)
        {
            if (latest is null || stats.LastSeen > seen)
            {
                (latest, seen) = (source, stats.LastSeen);
            }
        }

        return latest switch
        {
            KnowledgeSource.Searched => "searched for",
            KnowledgeSource.Viewed => "looked at",
            KnowledgeSource.Clicked => "opened",
            _ => "bought",
        };
    }

    /// <summary>A rationale as the candidate kept it: a text, or the completion it came from.</summary>
    private static string Rationale(object rationale) => rationale switch
    {
        QueryEntry stats => $"searched {stats.Count} time{(stats.Count == 1 ? "" : "s")} by {(stats.Users == 1 ? "a shopper" : $"{stats.Users} shoppers")}",
        _ => (string)rationale,
    };

    private sealed class Candidate(string text, string key, string source, object rationale)
    {
        private List<EntityMention>? _entities;

        public string Text { get; } = text;

        public string Key { get; } = key;

        public string Source { get; set; } = source;

        /// <summary>A text, or the <see cref="QueryEntry"/> of a completion (its rationale is written if it is served).</summary>
        public object Rationale { get; set; } = rationale;

        public double Score { get; set; }

        public double BestSourceScore { get; set; }

        /// <summary>The key's words in singular form, stop words left out (personal re-ranking).</summary>
        public string[]? Words { get; set; }

        /// <summary>The entities it is grounded in, each once (a later mention of an entity replaces the earlier one).</summary>
        public IReadOnlyList<EntityMention> Entities => _entities ?? [];

        public void Mention(IReadOnlyList<EntityMention> entities)
        {
            _entities ??= new List<EntityMention>(entities.Count);
            for (var i = 0; i < entities.Count; i++)
            {
                var entity = entities[i];
                var at = IndexOf(entity.Id);
                if (at < 0)
                {
                    _entities.Add(entity);
                }
                else
                {
                    _entities[at] = entity;
                }
            }
        }

        private int IndexOf(string id)
        {
            for (var i = 0; i < _entities!.Count; i++)
            {
                if (string.Equals(_entities[i].Id, id, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }
    }
}

/// <summary>
/// The content words of the candidates that bring none (entity names, and what people searched next, which a
/// snapshot offers only once enough users searched it), shared across requests: the same few thousand names recur on
/// every request. A user's own text never enters (a refinement, or a name completed after typed words, brings its
/// words). Bounded at 100,000 texts.
/// </summary>
internal static class CandidateWords
{
    private static readonly WordsMemo Memo = new(TextNormalizer.ContentWords, 100_000);

    public static string[] Of(string normalized) => Memo.Of(normalized);
}
