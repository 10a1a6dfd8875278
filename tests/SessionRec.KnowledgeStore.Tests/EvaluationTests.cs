namespace SessionRec.KnowledgeStore.Tests;

using SessionRec.KnowledgeStore.Evaluation;
using SessionRec.KnowledgeStore.Linking;
using SessionRec.TestSupport;

public class EvaluationTests
{
    [Fact]
    public void QueryLogsOfBothLayoutsAreReadAndCutIntoSessions()
    {
        using var dir = new TempFolder();
        var excite = Path.Combine(dir.Path, "e.log");
        File.WriteAllLines(excite, ["u1\t970916001949\tyahoo chat", "u1\t970916001954\tYahoo  Chat", "u1\t970916003523\t", "u1\t970916011322\tyahoo search", "u2\t970916001000\tfoo"]);
        var sessions = QueryLogReader.Sessions(QueryLogReader.ReadTsv(excite));
        // u1: 00:19:49 and 00:19:54 (a repeat, merged), the empty query dropped, 01:13:22 is 53 minutes later.
        Assert.Equal([["yahoo chat"], ["yahoo search"]], sessions.Where(s => s.UserId == "u1").Select(s => s.Queries.Select(q => q.Text).ToArray()));

        var aol = Path.Combine(dir.Path, "aol.txt");
        File.WriteAllLines(aol, ["AnonID\tQuery\tQueryTime\tItemRank\tClickURL", "142\trentdirect.com\t2006-03-01 07:17:12\t\t", "142\twww.prescriptionfortime.com\t2006-03-12 12:31:06\t1\thttp://x"]);
        var rows = QueryLogReader.ReadTsv(aol);
        Assert.Equal(2, rows.Count);
        Assert.Equal(new DateTimeOffset(2006, 3, 1, 7, 17, 12, TimeSpan.Zero), rows[0].At);

        File.WriteAllLines(aol, ["u1\tnot-a-time\tq"]);
        Assert.Contains(":1:", Assert.Throws<InvalidDataException>(() => QueryLogReader.ReadTsv(aol)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("red lipstick", "red lipstick", 1.0)]
    [InlineData("red matte lipstick", "red lipstick", 0.8)]
    [InlineData("nail polish", "red lipstick", 0.0)]
    public void RougeOneIsTheUnigramF(string candidate, string reference, double expected) =>
        Assert.Equal(expected, SuggestionEvaluation.Rouge1F(candidate, reference), 9);

    [Fact]
    public void OnTheExciteSampleThePersonalizedPipelineComesClosestToTheNextQuery()
    {
        var file = SharedData.Find("excite-querylog-small/excite-small.log");
        Assert.SkipWhen(file is null, "../shared/data/excite-querylog-small is not on this machine.");
        using var encoder = new MiniLmEncoder();
        var evaluation = new SuggestionEvaluation(QueryLogReader.Sessions(QueryLogReader.ReadTsv(file!)), encoder);
        // targets.md: ~217 held-out next queries, all but ~5 never searched in training.
        Assert.InRange(evaluation.Cases.Count, 200, 230);
        Assert.InRange(evaluation.Cases.Count(c => !evaluation.SeenInTraining(c.Target)), evaluation.Cases.Count - 10, evaluation.Cases.Count);

        var mpc = evaluation.Run(SuggestionEvaluation.Mpc, 1);
        var personal = evaluation.Run(SuggestionEvaluation.Personal, 1);
        Assert.Equal(mpc.Count, personal.Count);
        Assert.True(personal.Average(r => r.Cosine) > mpc.Average(r => r.Cosine) + 0.05);
        Assert.True(personal.Average(r => r.Rouge1) > mpc.Average(r => r.Rouge1));
        Assert.All(personal, r => Assert.True(r.Suggestions.Count <= SuggestionEvaluation.K));
    }
}
