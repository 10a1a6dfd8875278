namespace SessionRec.Api.Endpoints;

using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Knowledge;
using SessionRec.Abstractions.Sessions;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Api.Hosting;
using SessionRec.Api.Suggestions;
using SessionRec.EventContract;
using SessionRec.KnowledgeStore.Llm;
using SessionRec.KnowledgeStore.Text;
using SessionRec.Silo.Knowledge;

/// <summary>
/// Personalized query suggestions (as the user types, or before they type) and the transparency view of what the
/// service believes the user knows and cares about.
/// </summary>
public static class SuggestionsApi
{
    public const string Surface = "suggestions";
    public const string RetrievalVersion = "suggest-kg-1";
    public const int MaxPrefix = 200;

    public static RouteGroupBuilder MapSuggestionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/users").WithTags("Suggestions").RequireAuthorization();
        group.MapGet("/{id}/suggestions", GetSuggestions).WithName("GetSuggestions").AllowPublishableKey()
            .WithSummary("Query suggestions for what the user is typing (q may be empty), grounded in the catalogue's entities and the user's knowledge store.");
        group.MapGet("/{id}/knowledge", GetKnowledge).WithName("GetKnowledge")
            .WithSummary("What the service believes the user knows and cares about: the memory stream and the entity aggregates.");
        return group;
    }

    public static async Task<Results<Ok<SuggestionsResponse>, ProblemHttpResult>> GetSuggestions(
        string id, ClaimsPrincipal user, IGrainFactory grains, GrainReferences<IUserSessionGrain> sessions, ImpressionLog impressions, IOptions<KnowledgeServiceOptions> options,
        LlmSuggester llm, TimeProvider time, CancellationToken cancellationToken, string? q = null, string? k = null, string? context_item = null)
    {
        if (FieldRules.PathIdProblem("user id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid user id", problem);
        }

        if (FieldRules.TextProblem("q", q, MaxPrefix) is { } textProblem)
        {
            return Problems.BadRequest("Invalid q", textProblem);
        }

        if (context_item is not null && FieldRules.PathIdProblem("context_item", context_item) is { } contextProblem)
        {
            return Problems.BadRequest("Invalid context_item", contextProblem);
        }

        var o = options.Value;
        var size = o.DefaultK;
        if (k is not null)
        {
            if (!long.TryParse(k, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var asked) || asked < 1)
            {
                return Problems.BadRequest("Invalid k", $"k must be a whole number between 1 and {o.MaxK} (larger values are clamped to {o.MaxK}).");
            }

            size = (int)Math.Min(asked, o.MaxK);
        }

        var tenant = user.Tenant();
        var key = TenantKey.For(tenant, id);
        var started = Stopwatch.GetTimestamp();
        var now = time.GetUtcNow();

        // One call: the session grain adds the live session's queries, the user's knowledge grain personalises from
        // its silo's suggestion replicas.
        var answer = await sessions.Get(key).SuggestAsync(new SuggestionRequest(q ?? "", [], context_item, size, null, now));
        var list = answer.List;
        var sessionQueries = answer.SessionQueries;

        var served = new List<SuggestionItem>(list.Items.Count);
        foreach (var s in list.Items)
        {
            var entities = new EntityResponse[s.Entities.Count];
            for (var j = 0; j < entities.Length; j++)
            {
                entities[j] = new EntityResponse(s.Entities[j].Id, s.Entities[j].Name);
            }

            served.Add(new SuggestionItem(s.Text, 0, s.Source, entities, s.Rationale));
        }

        string? llmOutcome = null;
        var version = RetrievalVersion;
        if (llm.Enabled)
        {
            var context = new LlmContext(q ?? "", sessionQueries, list.ContextTitle, [.. list.PersonalEntities.Select(e => e.Name)], size);
            var (outcome, generated) = await llm.SuggestAsync(LlmSuggester.ScopeOf(tenant, id), context, cancellationToken);
            llmOutcome = outcome.ToString();

            // The operator's blocklist applies to what the LLM writes too.
            var allowed = generated.Count == 0
                ? []
                : (await grains.GetGrain<ISuggestionGrain>(tenant).AllowedAsync([.. generated.Select(g => g.Query)])).ToHashSet(StringComparer.Ordinal);
            List<LlmSuggestion> kept = [.. generated.Where(g => allowed.Contains(g.Query))];
            if (kept.Count > 0)
            {
                served = Merge(kept, list, served, size);
                version = $"{RetrievalVersion}+llm:{llm.Model}";
            }
        }

        var requestId = ServedIds.SuggestionRequest();
        var count = Math.Min(size, served.Count);
        var items = new List<SuggestionItem>(count);
        var texts = new string[count];
        for (var i = 0; i < count; i++)
        {
            items.Add(served[i] with { Position = i + 1 });
            texts[i] = served[i].Text;
        }

        var impression = new UserEvent(
            ServedIds.Impression(requestId), id, answer.SessionId, EventType.Impression, context_item, q, requestId, null, now, now,
            Surface, texts, version);
        await impressions.EnqueueAsync(tenant, impression, cancellationToken);
        SessionRec.ServiceDefaults.Telemetry.SuggestionDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return TypedResults.Ok(new SuggestionsResponse(requestId, version, id, q ?? "", items, llmOutcome));
    }

    /// <summary>
    /// The LLM's suggestions take the first half of the list (rounded up), the retrieval suggestions the rest, then
    /// either fills what the other left; duplicates (normal form) keep their first place. An LLM suggestion is
    /// grounded in the context's and the user's entities whose names it contains.
    /// </summary>
    public static List<SuggestionItem> Merge(IReadOnlyList<LlmSuggestion> generated, SuggestionList list, List<SuggestionItem> retrieved, int size)
    {
        var known = list.PersonalEntities.Concat(list.ContextEntities).DistinctBy(e => e.Id).ToList();
        var fromLlm = generated.Select(g =>
        {
            var text = TextNormalizer.Normalize(g.Query);
            var entities = known.Where(e => TextNormalizer.Normalize(e.Name) is { Length: > 0 } n && (" " + text + " ").Contains(" " + n + " ", StringComparison.Ordinal))
                .Select(e => new EntityResponse(e.Id, e.Name)).ToList();
            return new SuggestionItem(g.Query, 0, SessionRec.KnowledgeStore.Suggestions.SuggestionSources.Llm, entities, g.Rationale);
        }).ToList();
        var merged = new List<SuggestionItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Take(IEnumerable<SuggestionItem> items, int upTo)
        {
            foreach (var item in items)
            {
                if (merged.Count >= upTo)
                {
                    return;
                }

                if (seen.Add(TextNormalizer.Normalize(item.Text)))
                {
                    merged.Add(item);
                }
            }
        }

        Take(fromLlm, (size + 1) / 2);
        Take(retrieved, size);
        Take(fromLlm, size);
        return merged;
    }

    public static async Task<Results<Ok<KnowledgeResponse>, ProblemHttpResult>> GetKnowledge(string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (FieldRules.PathIdProblem("user id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid user id", problem);
        }

        var view = await grains.GetGrain<IUserKnowledgeGrain>(TenantKey.For(user.Tenant(), id)).GetAsync();
        return TypedResults.Ok(new KnowledgeResponse(
            view.UserId,
            [.. view.Aggregates.Select(a => new KnowledgeEntityResponse(a.Id, a.Name, a.Sources.Sum(s => s.Count), a.Sources.Min(s => s.FirstSeen), a.Sources.Max(s => s.LastSeen),
                a.Sources.ToDictionary(s => s.Source, s => s.Count)))],
            [.. view.Stream.OrderByDescending(r => r.At).Select(r => new KnowledgeRecordResponse(r.At, r.Source, r.Text, r.ItemId, [.. r.Entities.Select(e => new EntityResponse(e.Id, e.Name))]))]));
    }
}
