namespace SessionRec.Benchmarks;

using BenchmarkDotNet.Attributes;
using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Suggestions;
using SessionRec.Models.Data;

/// <summary>
/// One suggestion request's work in a replica (retrieval pipeline, no LLM), as the load generator's `suggestions`
/// scenario asks it: Amazon Beauty's catalogue as the graph (a synthetic one of the same size when
/// ../shared/data/amazon-beauty is absent), 200 users whose knowledge stores hold their Beauty histories, the
/// scenario's prefixes of 0 to 3 letters, k = 8. Each call is the next user and prefix in turn.
/// </summary>
[MemoryDiagnoser]
public class SuggestionBenchmarks
{
    private static readonly string[] Prefixes = ["", "l", "li", "lip", "n", "na", "nai", "s", "sh", "sha", "m", "ma", "mas", "c", "cr", "cre", "h", "ha", "hai"];
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private SuggestionEngine _engine = null!;
    private UserKnowledge[] _users = [];
    private int _next;

    [Params(0, 2_000)]
    public int LoggedQueries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const string beauty = "../shared/data/amazon-beauty";
        var folder = new[] { beauty, Path.Combine("..", "..", beauty) }.FirstOrDefault(Directory.Exists);
        var random = new Random(11);
        var dataset = folder is null
            ? new Dataset("synthetic", SyntheticCatalogue.Items(12_101, random), [.. Enumerable.Range(0, 200 * 8).Select(i => new ImportInteraction($"u{i % 200}", $"item-{random.Next(12_101)}", "view", null, null))])
            : DatasetReaders.ReadBeauty(folder);
        Console.WriteLine($"// suggestion benchmark on {(folder is null ? "a synthetic catalogue (amazon-beauty not found)" : folder)}");

        var graph = new EntityGraph();
        foreach (var item in dataset.Items)
        {
            graph.Upsert(new CatalogueEntry(item.Id, item.Title, item.Brand, item.Categories, item.Attributes));
        }

        // The query log the scenario's tenant has: none after a Beauty import; with searches, titles' first words.
        var log = new QueryLog();
        for (var i = 0; i < LoggedQueries; i++)
        {
            var title = dataset.Items[random.Next(dataset.Items.Count)].Title;
            log.Add(string.Join(' ', title.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(1 + random.Next(3))), Now.AddHours(-random.Next(24 * 30)), user: $"u{random.Next(500)}");
        }

        _engine = new SuggestionEngine(graph, new EntityLinker(graph), QueryLogSnapshot.From(log), grounded: new GroundedQueries(graph));
        _users = [.. dataset.Interactions.GroupBy(i => i.UserId).Take(200).Select(history =>
        {
            var knowledge = new UserKnowledge();
            var at = Now.AddDays(-3);
            foreach (var interaction in history)
            {
                at = at.AddMinutes(7);
                var mentions = graph.EntitiesOf(interaction.ItemId).OrderBy(e => e.Kind == EntityKind.Phrase ? 1 : 0).Take(12).Select(e => new EntityMention(e.Id, e.Name)).ToList();
                knowledge.Add(new MemoryRecord(at, KnowledgeSource.Viewed, graph.Item(interaction.ItemId)?.Title ?? interaction.ItemId, interaction.ItemId, mentions));
            }

            return knowledge;
        })];
    }

    [Benchmark(Description = "suggestion request (engine, personalised)")]
    public int Request()
    {
        var i = _next++;
        var user = _users[i % _users.Length];
        var prefix = Prefixes[i % Prefixes.Length];
        return _engine.SuggestWithGrounds(new SuggestionContext(prefix, [], null, Now), user, 8).Suggestions.Count;
    }
}
