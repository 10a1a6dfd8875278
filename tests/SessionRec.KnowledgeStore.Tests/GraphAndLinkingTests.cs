namespace SessionRec.KnowledgeStore.Tests;

using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Text;

public class GraphAndLinkingTests
{
    public static EntityGraph Catalogue()
    {
        var graph = new EntityGraph(minPhraseCount: 2);
        graph.Upsert(new CatalogueEntry("lip-1", "Red Matte Lipstick", "OPI", ["Makeup", "Lips", "Lipstick"], new Dictionary<string, string> { ["colour"] = "red" }));
        graph.Upsert(new CatalogueEntry("lip-2", "Nude Matte Lipstick", "OPI", ["Makeup", "Lips", "Lipstick"]));
        graph.Upsert(new CatalogueEntry("nail-1", "Nail Polish Red", "Essie", ["Makeup", "Nails"]));
        graph.Upsert(new CatalogueEntry("edt-1", "Chanel No 5 Eau de Toilette (EDT) Spray", "Chanel", ["Fragrance", "Women"]));
        return graph;
    }

    [Theory]
    [InlineData("Lipsticks", "lipstick")]
    [InlineData("brushes", "brush")]
    [InlineData("accessories", "accessory")]
    [InlineData("glass", "glass")]
    [InlineData("gas", "gas")]
    public void SingularFormsFollowTheEnglishRules(string word, string singular) =>
        Assert.Equal(singular, TextNormalizer.Singular(TextNormalizer.Normalize(word)));

    [Fact]
    public void NormalisationLowersAndKeepsOnlyWords()
    {
        Assert.Equal("loréal 24h", TextNormalizer.Normalize("  L'Oréal!! 24H "));
        Assert.Equal("eau de toilette", TextNormalizer.Normalize("Eau-de-Toilette"));
        Assert.Equal("", TextNormalizer.Normalize(" ?! "));
    }

    [Fact]
    public void NormalisationHandlesLongTextsAndKeepsANormalTextAsItIs()
    {
        var normal = "red matte lipstick";
        Assert.Same(normal, TextNormalizer.Normalize(normal));
        var long_ = string.Join(" ", Enumerable.Repeat("Nail-Polish", 100));
        Assert.Equal(string.Join(" ", Enumerable.Repeat("nail polish", 100)), TextNormalizer.Normalize(long_));
    }

    [Fact]
    public void ContentWordsAreSingularWithoutStopWords() =>
        Assert.Equal(["red", "lipstick", "nail"], TextNormalizer.ContentWords("The Red Lipsticks for your Nails"));

    [Fact]
    public void PrefixCompletionsAreShortestFirstAndFollowTheCatalogue()
    {
        var graph = Catalogue();
        Assert.Equal(["Lips", "Lipstick", "lipstick"], graph.NamesStartingWith("lip", 3).Select(e => e.Name));
        Assert.Same(graph.NamesStartingWith("lip", 3), graph.NamesStartingWith("lip", 3));

        graph.Upsert(new CatalogueEntry("liner-1", "Lip Liner", "Lipo", ["Makeup"]));
        Assert.Contains("Lipo", graph.NamesStartingWith("lip", 3).Select(e => e.Name));
        graph.Remove("liner-1");
        Assert.DoesNotContain("Lipo", graph.NamesStartingWith("lip", 3).Select(e => e.Name));
    }

    [Fact]
    public void TheCatalogueBecomesBrandsEveryCategoryLevelProductsAttributesAndFrequentPhrases()
    {
        var graph = Catalogue();
        Assert.Equal(EntityKind.Brand, graph.Get("brand:opi")!.Kind);
        Assert.Equal("category:makeup/lips", graph.Get("category:makeup/lips/lipstick")!.Parent);
        Assert.NotNull(graph.Get("category:makeup"));
        Assert.NotNull(graph.Get("product:lip-1"));
        Assert.NotNull(graph.Get("attribute:colour=red"));
        Assert.NotNull(graph.Get("phrase:matte lipstick")); // in two titles
        Assert.Null(graph.Get("phrase:nude matte"));          // in one
        Assert.Equal(["category:makeup/lips/lipstick"], graph.Children("category:makeup/lips").Select(e => e.Id));
        Assert.Contains(graph.Related("brand:opi"), r => r.Entity.Id == "category:makeup/lips/lipstick" && r.Count == 2);
    }

    [Fact]
    public void RemovingTheLastItemThatNamesAnEntityRemovesIt()
    {
        var graph = Catalogue();
        var version = graph.Version;
        Assert.True(graph.Remove("nail-1"));
        Assert.Null(graph.Get("brand:essie"));
        Assert.Null(graph.Get("category:makeup/nails"));
        Assert.NotNull(graph.Get("category:makeup"));
        Assert.True(graph.Version > version);
        Assert.False(graph.Remove("nail-1"));
        graph.Remove("lip-2");
        Assert.Null(graph.Get("phrase:matte lipstick"));
        Assert.Empty(graph.Lookup("matte lipstick"));
        Assert.NotNull(graph.Get("brand:opi"));
    }

    [Fact]
    public void LinkingFindsExactNamesAliasesAndAbbreviationsLongestFirst()
    {
        var linker = new EntityLinker(Catalogue());
        var links = linker.Link("opi matte lipsticks");
        Assert.Contains(links, l => l.Entity.Id == "brand:opi" && l.Match == LinkMatch.Exact);
        Assert.Contains(links, l => l.Entity.Id == "phrase:matte lipstick" && l.Match == LinkMatch.Alias);
        // "matte lipsticks" is one phrase: the longer match wins over "lipstick" alone.
        Assert.DoesNotContain(links, l => l.Entity.Id == "category:makeup/lips/lipstick");

        var edt = linker.Link("Chanel EDT");
        Assert.Contains(edt, l => l.Entity.Id == "phrase:eau de toilette" && l.Match == LinkMatch.Alias);
        Assert.Empty(linker.Link("the and of"));
    }

    [Fact]
    public void SemanticLinksUseMiniLmAndTheThreshold()
    {
        using var encoder = new MiniLmEncoder();
        var graph = Catalogue();
        var linker = new EntityLinker(graph, encoder);
        var lips = linker.Link("lip colour");
        var semantic = Assert.Single(lips, l => l.Match == LinkMatch.Semantic);
        Assert.StartsWith("category:makeup/lips", semantic.Entity.Id, StringComparison.Ordinal);
        Assert.True(semantic.Score >= EntityLinker.DefaultThreshold);
        Assert.DoesNotContain(linker.Link("tax code retirement"), l => l.Match == LinkMatch.Semantic);
        var strict = new EntityLinker(graph, encoder, threshold: 0.99);
        Assert.DoesNotContain(strict.Link("lip colour"), l => l.Match == LinkMatch.Semantic);
    }

    [Fact(Timeout = 60_000)]
    public async Task InTheBackgroundTheSemanticIndexIsBuiltWithoutMakingALinkWaitAndRebuildsEncodeOnlyNewNames()
    {
        using var miniLm = new MiniLmEncoder();
        using var gated = new GatedEncoder(miniLm);
        var graph = Catalogue();
        var linker = new EntityLinker(graph, gated) { BuildIndexInBackground = true };

        // The index build is held at the gate: the link answers at once, without semantic links.
        Assert.DoesNotContain(linker.Link("lip colour"), l => l.Match == LinkMatch.Semantic);
        gated.Open.Set();
        await Until(() => linker.Link("lip colour").Any(l => l.Match == LinkMatch.Semantic));

        // A new category: the rebuild encodes its names only, not the whole catalogue's again.
        var before = gated.IndexedNames;
        graph.Upsert(new CatalogueEntry("tool-1", "Eyelash Curler", "Tweezerman", ["Tools", "Eyelash Curlers"]));
        await Until(() => linker.Link("lash curler tool").Any(l => l.Match == LinkMatch.Semantic && l.Entity.Id.StartsWith("category:tools", StringComparison.Ordinal)));
        Assert.Equal(2, gated.IndexedNames - before);
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The semantic index was not built in 30 s.");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>MiniLM with index builds (anything but the test's queries) behind a gate, counting the names they encode.</summary>
    private sealed class GatedEncoder(MiniLmEncoder inner) : ITextEncoder, IDisposable
    {
        private static readonly string[] Queries = ["lip colour", "lash curler tool"];
        private int _indexedNames;

        public ManualResetEventSlim Open { get; } = new();

        public int IndexedNames => Volatile.Read(ref _indexedNames);

        public int Dimension => inner.Dimension;

        public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            if (texts is not [var text] || !Queries.Contains(text))
            {
                Open.Wait(cancellationToken);
                Interlocked.Add(ref _indexedNames, texts.Count);
            }

            return inner.Encode(texts, cancellationToken);
        }

        public void Dispose() => Open.Dispose();
    }

    [Fact]
    public void MiniLmVectorsAreUnitLengthAndCloseForParaphrases()
    {
        using var encoder = new MiniLmEncoder();
        var v = encoder.Encode(["red lipstick", "crimson lip stick", "income tax forms"]);
        Assert.Equal(384, v[0].Length);
        Assert.Equal(1, Math.Sqrt(Vectors.Dot(v[0], v[0])), 3);
        Assert.True(Vectors.Dot(v[0], v[1]) > Vectors.Dot(v[0], v[2]) + 0.3);
    }
}
