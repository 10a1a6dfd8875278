namespace SessionRec.Silo.Knowledge;

using SessionRec.Abstractions.Knowledge;
using SessionRec.KnowledgeStore.Knowledge;

/// <summary>Between the wire types of the grains and the knowledge library's types.</summary>
public static class KnowledgeMapping
{
    public static string Wire(KnowledgeSource source) => source switch
    {
        KnowledgeSource.Searched => "searched",
        KnowledgeSource.Viewed => "viewed",
        KnowledgeSource.Clicked => "clicked",
        _ => "bought",
    };

    public static KnowledgeSource Parse(string source) => source switch
    {
        "searched" => KnowledgeSource.Searched,
        "viewed" => KnowledgeSource.Viewed,
        "clicked" => KnowledgeSource.Clicked,
        _ => KnowledgeSource.Bought,
    };

    public static UserKnowledge ToStore(UserKnowledgeView view, KnowledgeOptions options) =>
        UserKnowledge.Restore(
            view.Stream.Select(r => new MemoryRecord(r.At, Parse(r.Source), r.Text, r.ItemId, [.. r.Entities.Select(e => new EntityMention(e.Id, e.Name))])),
            view.Aggregates.Select(a => new EntityAggregate(a.Id, a.Name, a.Sources.ToDictionary(s => Parse(s.Source), s => new SourceStats(s.Count, s.FirstSeen, s.LastSeen)))),
            options);

    public static UserKnowledgeView ToView(string userId, UserKnowledge knowledge) =>
        new(
            userId,
            [.. knowledge.Stream.Select(r => new KnowledgeRecord(r.At, Wire(r.Source), r.Text, r.ItemId, [.. r.Entities.Select(e => new EntityRef(e.Id, e.Name))]))],
            [.. knowledge.Aggregates.OrderByDescending(a => a.LastSeen).ThenBy(a => a.Id, StringComparer.Ordinal)
                .Select(a => new EntityAggregateView(a.Id, a.Name, [.. a.Sources.OrderBy(s => s.Key).Select(s => new SourceCount(Wire(s.Key), s.Value.Count, s.Value.FirstSeen, s.Value.LastSeen))]))]);
}
