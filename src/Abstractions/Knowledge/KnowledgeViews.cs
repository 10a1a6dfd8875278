namespace SessionRec.Abstractions.Knowledge;

/// <summary>An entity of the tenant's knowledge graph, by id and display name.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.EntityRef")]
public sealed record EntityRef(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name);

/// <summary>One record of a user's memory stream: a query (searched) or an item viewed, clicked or bought.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.KnowledgeRecord")]
public sealed record KnowledgeRecord(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Source,
    [property: Id(2)] string Text,
    [property: Id(3)] string? ItemId,
    [property: Id(4)] IReadOnlyList<EntityRef> Entities);

/// <summary>How often and when one source (searched, viewed, clicked, bought) touched an entity.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SourceCount")]
public sealed record SourceCount(
    [property: Id(0)] string Source,
    [property: Id(1)] int Count,
    [property: Id(2)] DateTimeOffset FirstSeen,
    [property: Id(3)] DateTimeOffset LastSeen);

/// <summary>The aggregate row of one entity in a user's knowledge store.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.EntityAggregateView")]
public sealed record EntityAggregateView(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] IReadOnlyList<SourceCount> Sources);

/// <summary>What the service believes a user knows and cares about: the memory stream and the entity aggregates.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.UserKnowledgeView")]
public sealed record UserKnowledgeView(
    [property: Id(0)] string UserId,
    [property: Id(1)] IReadOnlyList<KnowledgeRecord> Stream,
    [property: Id(2)] IReadOnlyList<EntityAggregateView> Aggregates);

/// <summary>A request for query suggestions: the typed prefix, the session's queries, the current item, the user's store.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SuggestionRequest")]
public sealed record SuggestionRequest(
    [property: Id(0)] string Prefix,
    [property: Id(1)] IReadOnlyList<string> SessionQueries,
    [property: Id(2)] string? ContextItem,
    [property: Id(3)] int K,
    [property: Id(4)] UserKnowledgeView? Knowledge,
    [property: Id(5)] DateTimeOffset Now);

[GenerateSerializer, Immutable]
[Alias("SessionRec.SuggestionView")]
public sealed record SuggestionView(
    [property: Id(0)] string Text,
    [property: Id(1)] string Source,
    [property: Id(2)] IReadOnlyList<EntityRef> Entities,
    [property: Id(3)] string Rationale,
    [property: Id(4)] double Score);

/// <summary>The retrieval pipeline's suggestions, and what an LLM prompt needs: the context's title and the personal entities retrieved.</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.SuggestionList")]
public sealed record SuggestionList(
    [property: Id(0)] IReadOnlyList<SuggestionView> Items,
    [property: Id(1)] string? ContextTitle,
    [property: Id(2)] IReadOnlyList<EntityRef> PersonalEntities,
    [property: Id(3)] IReadOnlyList<EntityRef> ContextEntities);

/// <summary>A tenant's blocked suggestion phrases and patterns (those set by configuration are not in it).</summary>
[GenerateSerializer, Immutable]
[Alias("SessionRec.BlocklistView")]
public sealed record BlocklistView(
    [property: Id(0)] IReadOnlyList<string> Phrases,
    [property: Id(1)] IReadOnlyList<string> Patterns);
