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
public sealed class SuggestionEngine(EntityGraph graph, EntityLinker linker, IQueryStatistics log, SuggestionOptions? options = null)
{
    private readonly SuggestionOptions _options = options ?? new SuggestionOptions();

    public SuggestionOptions Options => _options;

    /// <summary>What is never suggested (swapped whole when an operator changes it).</summary>
    public SuggestionBlocklist Blocklist { get; set; } = SuggestionBlocklist.Empty;

    public IReadOnlyList<Suggestion> Suggest(SuggestionContext context, UserKnowledge? user, int k)
    {
        var prefix = TextNormalizer.Normalize(context.Prefix);
        var last = user is null ? "" : TextNormalizer.Normalize(context.SessionQueries.LastOrDefault());
        var candidates = new Dictionary<string, Candidate>(StringComparer.Ordinal);

        void Add(string text, string source, double score, string rationale, IEnumerable<EntityMention>? entities = null)
        {
            var key = TextNormalizer.Normalize(text);
            if (key.Length == 0 || !key.StartsWith(prefix, StringComparison.Ordinal) || key == last || key == prefix && prefix.Length > 0 && source != SuggestionSources.Completion)
            {
                return;
            }

            if (!candidates.TryGetValue(key, out var c))
            {
                candidates[key] = c = new Candidate(text.Trim(), source, rationale);
            }
            else if (score > c.BestSourceScore)
            {
                (c.Source, c.Rationale) = (source, rationale);
            }

            c.BestSourceScore = Math.Max(c.BestSourceScore, score);
            c.Score += score;
            foreach (var e in entities ?? [])
            {
                c.Entities[e.Id] = e;
            }
        }

        // 1. Completion over the query log: popularity (log-scaled) decayed by the time since last searched.
        var maxLog = Math.Log(1 + Math.Max(1, log.MaxCount));
        foreach (var stats in log.TopCompletions(prefix, 200))
        {
            var age = Math.Max(0, (context.Now - stats.LastSeen).TotalSeconds);
            var recency = Math.Pow(2, -age / _options.RecencyHalfLife.TotalSeconds);
            Add(stats.Text, SuggestionSources.Completion, _options.CompletionWeight * (Math.Log(1 + stats.Count) / maxLog) * (0.5 + (0.5 * recency)),
                $"searched {stats.Count} time{(stats.Count == 1 ? "" : "s")} by {(stats.Users == 1 ? "a shopper" : $"{stats.Users} shoppers")}");
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

        foreach (var link in contextLinks.DistinctBy(l => l.Entity.Id).Take(8))
        {
            foreach (var (text, mentions, why) in Grounded(link.Entity))
            {
                Add(text, SuggestionSources.Entity, _options.EntityWeight * link.Score * 0.8, why, mentions);
            }
        }

        if (prefix.Length > 0 && prefixLinks.Count == 0)
        {
            // Nothing in the graph is named by the prefix yet: complete its last word with entity names.
            foreach (var entity in CompleteWord(prefix).Take(20))
            {
                Add(entity.Name, SuggestionSources.Entity, _options.EntityWeight * 0.5, $"{Entity.KindName(entity.Kind)} in the catalogue", [new EntityMention(entity.Id, entity.Name)]);
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
                            Add($"{lastText} {other.Name}", SuggestionSources.Entity, _options.EntityWeight * 0.6,
                                $"narrows \"{lastText}\" with {other.Name}", [new EntityMention(link.Entity.Id, link.Entity.Name), new EntityMention(other.Id, other.Name)]);
                        }
                    }
                }
            }

            // 5. Personal entities retrieved for the context, and their grounded queries.
            var words = TextNormalizer.Tokens(string.Join(' ', context.SessionQueries.Append(context.Prefix).Append(context.ContextText ?? "")));
            var personal = user.Retrieve(contextLinks.Select(l => l.Entity.Id).ToHashSet(StringComparer.Ordinal), words, _options.Strategy, context.Now, _options.PersonalEntities);
            foreach (var retrieved in personal)
            {
                var entity = graph.Get(retrieved.Entity.Id) ?? new Entity(retrieved.Entity.Id, EntityKind.Phrase, retrieved.Entity.Name);
                var why = $"you {Verb(retrieved.Entity)} {retrieved.Entity.Name}";
                Add(entity.Name, SuggestionSources.Entity, _options.EntityWeight, why, [new EntityMention(entity.Id, entity.Name)]);
                foreach (var (text, mentions, _) in Grounded(entity).Take(5))
                {
                    Add(text, SuggestionSources.Entity, _options.EntityWeight * 0.7, why, mentions);
                }
            }

            // 6. Re-rank: overlap with the user's entities (by recency-weighted count) and with the session's words.
            var profile = PersonalWords(user, context);
            foreach (var c in candidates.Values)
            {
                var tokens = TextNormalizer.Tokens(c.Text).Select(TextNormalizer.Singular).Where(t => !TextNormalizer.IsStopWord(t)).ToArray();
                if (tokens.Length > 0)
                {
                    c.Score += _options.PersonalWeight * tokens.Sum(t => profile.GetValueOrDefault(t)) / tokens.Length;
                }
            }
        }

        var blocklist = Blocklist;
        return candidates.Values.Where(c => !blocklist.Blocks(c.Text)).OrderByDescending(c => c.Score).ThenBy(c => c.Text.Length).ThenBy(c => c.Text, StringComparer.Ordinal).Take(k)
            .Select(c => new Suggestion(c.Text, c.Source, [.. c.Entities.Values], c.Rationale, Math.Round(c.Score, 6))).ToList();
    }

    /// <summary>Queries grounded in an entity: its name, brand + top categories, category refinements, frequent companions.</summary>
    private IEnumerable<(string Text, EntityMention[] Entities, string Why)> Grounded(Entity entity)
    {
        var self = new EntityMention(entity.Id, entity.Name);
        if (entity.Kind != EntityKind.Product)
        {
            yield return (entity.Name, [self], $"{Entity.KindName(entity.Kind)} {entity.Name}");
        }

        foreach (var (other, _) in graph.Related(entity.Id).Take(12))
        {
            var mention = new EntityMention(other.Id, other.Name);
            switch (entity.Kind, other.Kind)
            {
                case (EntityKind.Brand, EntityKind.Category):
                    yield return ($"{entity.Name} {other.Name}", [self, mention], $"{entity.Name} makes {other.Name}");
                    break;
                case (EntityKind.Category, EntityKind.Brand):
                    yield return ($"{other.Name} {entity.Name}", [mention, self], $"{other.Name} is a brand in {entity.Name}");
                    break;
                case (EntityKind.Phrase, EntityKind.Phrase):
                    var words = TextNormalizer.Tokens(other.Name);
                    if (!TextNormalizer.Tokens(entity.Name).Intersect(words).Any())
                    {
                        yield return ($"{entity.Name} {other.Name}", [self, mention], $"often searched together with {entity.Name}");
                    }

                    break;
            }
        }

        if (entity.Kind == EntityKind.Category)
        {
            foreach (var child in graph.Children(entity.Id).Take(5))
            {
                yield return (child.Name, [new EntityMention(child.Id, child.Name)], $"a kind of {entity.Name}");
            }
        }
    }

    private IEnumerable<Entity> CompleteWord(string prefix)
    {
        var lastSpace = prefix.LastIndexOf(' ');
        var head = lastSpace < 0 ? "" : prefix[..(lastSpace + 1)];
        return graph.NamesStartingWith(prefix[head.Length..])
            .Select(e => head.Length == 0 ? e : e with { Name = head + TextNormalizer.Normalize(e.Name) });
    }

    /// <summary>Word weights of the user: the session's words (weight 1) and the stored entities' words (recency-weighted, scaled to at most 1).</summary>
    private Dictionary<string, double> PersonalWords(UserKnowledge user, SuggestionContext context)
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        var aggregates = user.Retrieve([], [], RetrievalStrategy.Recency, context.Now, 50);
        var top = aggregates.Count == 0 ? 1 : aggregates.Max(a => a.Score);
        foreach (var a in aggregates)
        {
            foreach (var t in TextNormalizer.Tokens(a.Entity.Name).Select(TextNormalizer.Singular))
            {
                weights[t] = Math.Max(weights.GetValueOrDefault(t), 0.5 * a.Score / top);
            }
        }

        foreach (var t in context.SessionQueries.Append(context.ContextText ?? "").SelectMany(TextNormalizer.Tokens).Select(TextNormalizer.Singular))
        {
            if (!TextNormalizer.IsStopWord(t))
            {
                weights[t] = 1;
            }
        }

        return weights;
    }

    private static string Verb(EntityAggregate aggregate) =>
        aggregate.Sources.OrderByDescending(s => s.Value.LastSeen).First().Key switch
        {
            KnowledgeSource.Searched => "searched for",
            KnowledgeSource.Viewed => "looked at",
            KnowledgeSource.Clicked => "opened",
            _ => "bought",
        };

    private sealed class Candidate(string text, string source, string rationale)
    {
        public string Text { get; } = text;

        public string Source { get; set; } = source;

        public string Rationale { get; set; } = rationale;

        public double Score { get; set; }

        public double BestSourceScore { get; set; }

        public Dictionary<string, EntityMention> Entities { get; } = new(StringComparer.Ordinal);
    }
}
