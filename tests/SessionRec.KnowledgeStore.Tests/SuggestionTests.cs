namespace SessionRec.KnowledgeStore.Tests;

using SessionRec.KnowledgeStore.Knowledge;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Suggestions;

public class SuggestionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private static (SuggestionEngine Engine, QueryLog Log) Engine()
    {
        var graph = GraphAndLinkingTests.Catalogue();
        var log = new QueryLog();
        for (var i = 0; i < 5; i++)
        {
            log.Add("nail polish", Now.AddDays(-1));
            log.Add("red lipstick", Now.AddDays(-1), previous: "lipstick");
        }

        log.Add("nail polish red", Now.AddDays(-1));
        log.Add("opi lipstick", Now.AddDays(-2));
        log.Add("opi lipstick", Now.AddDays(-2));
        log.Add("lipstick", Now.AddDays(-3));
        return (new SuggestionEngine(graph, new EntityLinker(graph), log), log);
    }

    [Fact]
    public void CompletionRanksByPopularityAndKeepsThePrefix()
    {
        var (engine, _) = Engine();
        var list = engine.Suggest(SuggestionContext.ForPrefix("n", Now), null, 5);
        Assert.Equal("nail polish", list[0].Text);
        Assert.Equal(SuggestionSources.Completion, list[0].Source);
        Assert.All(list, s => Assert.StartsWith("n", s.Text, StringComparison.OrdinalIgnoreCase));
        Assert.Contains("5 times", list[0].Rationale, StringComparison.Ordinal);
    }

    [Fact]
    public void GroundedQueriesAreKeptPerEntityUntilTheGraphChanges()
    {
        var graph = GraphAndLinkingTests.Catalogue();
        var grounded = new GroundedQueries(graph);
        var nails = graph.Get("category:makeup/nails")!;
        var first = grounded.For(nails);
        Assert.Contains(first, q => q.Text == "Essie Nails" && q.Key == "essie nails");
        Assert.Same(first, grounded.For(nails));

        graph.Upsert(new Graph.CatalogueEntry("nail-2", "Top Coat", "Sally Hansen", ["Makeup", "Nails"]));
        Assert.Contains(grounded.For(nails), q => q.Text == "Sally Hansen Nails");

        // An entity the graph does not hold (a user's entity since removed) is grounded in its name alone.
        Assert.Equal(["gone"], grounded.For(new Graph.Entity("phrase:gone", Graph.EntityKind.Phrase, "gone")).Select(q => q.Text));
    }

    [Fact]
    public void TheLogKnowsWhatPeopleSearchedNext()
    {
        var (_, log) = Engine();
        Assert.Equal(5, log.Next("lipstick")["red lipstick"]);
        Assert.Equal(["nail polish", "nail polish red"], log.Completions("nail").Select(c => c.Key));
    }

    [Fact]
    public void AQueryIsOfferedOnlyOnceEnoughUsersSearchedItAndForgettingAUserTakesTheirShareBack()
    {
        var log = new QueryLog { MinUsers = 3 };
        for (var i = 0; i < 10; i++)
        {
            log.Add("spam pills", Now, user: "spammer");
        }

        foreach (var user in new[] { "a", "b", "c" })
        {
            log.Add("lipstick", Now, user: user);
            log.Add("red lipstick", Now, previous: "lipstick", user: user);
        }

        // Ten searches by one user are offered to nobody, and do not scale anyone's popularity either.
        Assert.Null(log.Get("spam pills"));
        Assert.Equal(["lipstick", "red lipstick"], log.Completions("").Select(c => c.Key).Order(StringComparer.Ordinal));
        Assert.Equal(3, log.MaxCount);
        Assert.Equal(3, log.Next("lipstick")["red lipstick"]);

        log.ForgetUser("a");

        Assert.False(log.Holds("a"));
        Assert.Empty(log.Completions(""));
        Assert.Empty(log.Next("lipstick"));
        Assert.Equal(0, log.MaxCount);

        // The other two users' searches stay: with a lower threshold the query is offered again.
        log.MinUsers = 2;
        Assert.Equal(2, log.Get("lipstick")!.Users);
        Assert.Equal(2, log.MaxCount);
    }

    [Fact]
    public void TheUsersKnowledgeAndSessionReorderSuggestions()
    {
        var (engine, _) = Engine();
        var plain = engine.Suggest(SuggestionContext.ForPrefix("", Now), null, 10).Select(s => s.Text).ToList();
        Assert.True(plain.IndexOf("nail polish") < plain.IndexOf("opi lipstick"));

        var user = new UserKnowledge();
        user.Add(new MemoryRecord(Now.AddDays(-1), KnowledgeSource.Bought, "OPI Red Matte Lipstick", "lip-1", [new EntityMention("brand:opi", "OPI")]));
        var personal = engine.Suggest(new SuggestionContext("", ["lipstick"], null, Now), user, 10);
        var texts = personal.Select(s => s.Text).ToList();
        Assert.True(texts.IndexOf("opi lipstick") < texts.IndexOf("nail polish"), string.Join(" | ", texts));
        Assert.DoesNotContain("lipstick", texts); // the query just searched is not suggested again
        var next = Assert.Single(personal, s => s.Text == "red lipstick");
        Assert.Equal(SuggestionSources.NextQuery, next.Source);
        Assert.Contains(personal, s => s.Source == SuggestionSources.Entity && s.Entities.Any(e => e.Id == "brand:opi") && s.Rationale.Contains("bought", StringComparison.Ordinal));
    }

    [Fact]
    public void APersonalSuggestionSaysWhatTheUserLastDidWithItsEntity()
    {
        var (engine, _) = Engine();
        var user = new UserKnowledge();
        user.Add(new MemoryRecord(Now.AddDays(-3), KnowledgeSource.Bought, "OPI Red Matte Lipstick", "lip-1", [new EntityMention("brand:opi", "OPI")]));
        user.Add(new MemoryRecord(Now.AddDays(-1), KnowledgeSource.Viewed, "OPI Red Matte Lipstick", "lip-1", [new EntityMention("brand:opi", "OPI")]));
        string Why() => engine.Suggest(new SuggestionContext("", [], null, Now), user, 10).First(s => s.Text == "OPI").Rationale;
        Assert.Equal("you looked at OPI", Why());

        user.Add(new MemoryRecord(Now.AddHours(-1), KnowledgeSource.Searched, "opi", null, [new EntityMention("brand:opi", "OPI")]));
        Assert.Equal("you searched for OPI", Why());
    }

    [Fact]
    public void EntityGroundedQueriesCompleteAPrefixTheLogHasNeverSeen()
    {
        var (engine, _) = Engine();
        var list = engine.Suggest(SuggestionContext.ForPrefix("ess", Now), null, 5);
        var essie = Assert.Single(list, s => s.Text == "Essie");
        Assert.Equal(SuggestionSources.Entity, essie.Source);
        Assert.Equal("brand:essie", Assert.Single(essie.Entities).Id);

        var brand = engine.Suggest(SuggestionContext.ForPrefix("essie", Now), null, 5);
        Assert.Contains(brand, s => s.Text == "Essie Nails" && s.Entities.Count == 2);
    }
}
