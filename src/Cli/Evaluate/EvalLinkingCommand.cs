namespace SessionRec.Cli.Evaluate;

using SessionRec.KnowledgeStore.Graph;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.KnowledgeStore.Text;
using SessionRec.Models.Data;
using Spectre.Console;

/// <summary>
/// `sessionrec eval linking`: chooses the semantic-linking threshold on a catalogue. Query-like texts are made
/// from a sample of item titles (the brand's words removed, the first four content words kept); a link is right
/// when it names one of the item's categories. For each threshold it prints the precision and recall of
/// the best semantic link, and picks the lowest threshold whose precision reaches the target (a wrong link
/// misleads personalization more than a missing one helps).
/// </summary>
public static class EvalLinkingCommand
{
    public static int Run(Dataset dataset, int sample, double targetPrecision)
    {
        var graph = new EntityGraph();
        foreach (var item in dataset.Items)
        {
            graph.Upsert(new CatalogueEntry(item.Id, item.Title, item.Brand, item.Categories, item.Attributes));
        }

        using var encoder = new MiniLmEncoder();
        var linker = new EntityLinker(graph, encoder, threshold: -1);
        var random = new Random(11);
        var cases = new List<(double Score, bool Correct)>();
        var errors = new List<string>();
        foreach (var item in dataset.Items.OrderBy(_ => random.Next()).Take(sample))
        {
            var brandWords = TextNormalizer.Tokens(item.Brand).ToHashSet(StringComparer.Ordinal);
            var words = TextNormalizer.Tokens(item.Title).Where(w => !brandWords.Contains(w) && !TextNormalizer.IsStopWord(w) && !w.Any(char.IsDigit)).Take(4).ToArray();
            if (words.Length == 0 || item.Categories.Count == 0)
            {
                continue;
            }

            // Category names repeat under different parents ("Nail Polish" in two branches): a link is right when it
            // names one of the item's categories.
            var gold = graph.EntitiesOf(item.Id).Where(e => e.Kind is EntityKind.Category).Select(e => TextNormalizer.Normalize(e.Name)).ToHashSet(StringComparer.Ordinal);
            var best = linker.SemanticLinks(string.Join(' ', words), max: 1);
            cases.Add(best.Count == 0 ? (-1, false) : (best[0].Score, gold.Contains(TextNormalizer.Normalize(best[0].Entity.Name))));
            if (best.Count > 0 && errors.Count < 12 && !cases[^1].Correct && best[0].Score >= 0.6)
            {
                errors.Add($"{string.Join(' ', words)} → {best[0].Entity.Name} ({best[0].Score:0.00}); item: {string.Join(" > ", item.Categories)}");
            }
        }

        var table = new Table().AddColumns("threshold", "linked", "precision", "recall");
        double? chosen = null;
        for (var t = 0.30; t <= 0.801; t += 0.05)
        {
            var linked = cases.Where(c => c.Score >= t).ToList();
            var precision = linked.Count == 0 ? 0 : (double)linked.Count(c => c.Correct) / linked.Count;
            var recall = (double)linked.Count(c => c.Correct) / cases.Count;
            table.AddRow($"{t:0.00}", $"{linked.Count:N0}", $"{precision:0.000}", $"{recall:0.000}");
            if (chosen is null && precision >= targetPrecision)
            {
                chosen = Math.Round(t, 2);
            }
        }

        AnsiConsole.MarkupLineInterpolated($"{dataset.Name}: {graph.Count:N0} entities; {cases.Count:N0} query-like titles");
        AnsiConsole.Write(table);
        foreach (var error in errors)
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]wrong: {error}[/]");
        }

        AnsiConsole.MarkupLineInterpolated($"lowest threshold with precision ≥ {targetPrecision:0.00}: {(chosen is null ? "none" : chosen.Value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture))}");
        return 0;
    }
}
