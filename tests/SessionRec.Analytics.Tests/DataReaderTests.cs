namespace SessionRec.Analytics.Tests;

using SessionRec.Analytics.Data;
using SessionRec.Analytics.Metrics;
using SessionRec.TestSupport;

public class DataReaderTests
{
    private const string TrecXml = """
        <sessiontrack2013>
          <session num="7" userid="3" starttime="10:00:00.000000">
            <topic num="12"><desc>x</desc></topic>
            <interaction num="1" starttime="10:00:05.000000">
              <query>red lipstick</query>
              <results>
                <result rank="1"><url>http://a</url><clueweb12id>doc-a</clueweb12id><title>A</title></result>
                <result rank="2"><url>http://b</url><clueweb12id>doc-b</clueweb12id><title>B</title><snippet>b</snippet></result>
              </results>
              <clicked><click num="1" starttime="10:00:09.5" endtime="10:00:30.0"><rank>2</rank></click></clicked>
            </interaction>
            <interaction num="2" starttime="10:01:00.000000">
              <query>matte red lipstick</query>
              <results><result rank="1"><clueweb12id>doc-c</clueweb12id></result></results>
            </interaction>
            <currentquery starttime="10:02:00"><query>cheap matte lipstick</query></currentquery>
          </session>
        </sessiontrack2013>
        """;

    [Fact]
    public void TrecReaderAcceptsAnotherYearsElementNamesAndJoinsJudgments()
    {
        using var dir = new TempFolder();
        var xml = Path.Combine(dir.Path, "s.xml");
        File.WriteAllText(xml, TrecXml);
        var qrels = Path.Combine(dir.Path, "q.txt");
        File.WriteAllText(qrels, "12 0 doc-b 2\n12 0 doc-a -2\n13 0 doc-c 4\n");

        var session = Assert.Single(TrecSessionReader.ReadSessions(xml));
        Assert.Equal(("7", "12", "cheap matte lipstick"), (session.Number, session.Topic, session.CurrentQuery));
        Assert.Equal(["red lipstick", "matte red lipstick"], session.Interactions.Select(i => i.Query));
        Assert.Equal(2, Assert.Single(session.Interactions[0].Clicks).Rank);
        Assert.Empty(session.Interactions[1].Clicks);

        var eval = TrecSessionReader.ToEvalSession(session, TrecSessionReader.ReadJudgments(qrels));
        Assert.Equal([0.0, 2.0], eval.Queries[0].Results.Select(r => r.JudgedGain!.Value));
        Assert.Equal([0.0, 1.0], eval.Queries[0].Results.Select(r => r.FeedbackGain));
        Assert.Equal(0, eval.Queries[1].Results[0].JudgedGain); // doc-c is judged for another topic only
    }

    [Fact]
    public void MalformedInputsAreRefusedWithTheLine()
    {
        using var dir = new TempFolder();
        var bad = Path.Combine(dir.Path, "bad.tsv");
        File.WriteAllText(bad, "F\t[1, 0]\t[1, 0]\t3\nX\t[1]\t[1]\t2\n");
        var error = Assert.Throws<InvalidDataException>(() => ThuirReader.ReadQueries(bad));
        Assert.Contains(":2:", error.Message, StringComparison.Ordinal);

        File.WriteAllText(bad, "F\t[1, 0]\t[1]\t3\n");
        Assert.Throws<InvalidDataException>(() => ThuirReader.ReadQueries(bad));

        var xml = Path.Combine(dir.Path, "bad.xml");
        File.WriteAllText(xml, "<sessiontrack><session>");
        Assert.Throws<InvalidDataException>(() => TrecSessionReader.ReadSessions(xml));
        File.WriteAllText(xml, "<other/>");
        Assert.Throws<InvalidDataException>(() => TrecSessionReader.ReadSessions(xml));

        var qrels = Path.Combine(dir.Path, "q.txt");
        File.WriteAllText(qrels, "12 0 doc-b\n");
        Assert.Throws<InvalidDataException>(() => TrecSessionReader.ReadJudgments(qrels));
    }

    [Fact]
    public void ThuirSessionsStartAtFirstQueryRows()
    {
        using var dir = new TempFolder();
        var file = Path.Combine(dir.Path, "t.tsv");
        File.WriteAllText(file, "F\t[1, 0]\t[2, 0]\t3\nA\t[0, 1]\t[0, 1]\t2\nF\t[0, 0]\t[0, 0]\t0\n");
        var rows = ThuirReader.ReadQueries(file);
        var sessions = ThuirReader.Sessions(rows);
        Assert.Equal([2, 1], sessions.Select(s => s.Count));
        var eval = ThuirReader.ToEvalSession(sessions[0]);
        Assert.Equal([2.0, 0.0], eval.Queries[0].Results.Select(r => r.JudgedGain!.Value));
        Assert.Equal([0.0, 1.0], eval.Queries[1].Results.Select(r => r.FeedbackGain));
    }

    [Fact]
    public void TheRealTrecSession2012LogHasTheDocumentedShape()
    {
        var folder = SharedData.Find("trec-session-2012");
        Assert.SkipWhen(folder is null, "../shared/data/trec-session-2012 is not on this machine.");
        var sessions = TrecSessionReader.ReadSessions(Path.Combine(folder!, "sessiontrack2012.xml"));
        // PROVENANCE.txt: 98 sessions, 199 interactions, 98 current queries, 272 clicks.
        Assert.Equal(98, sessions.Count);
        Assert.Equal(199, sessions.Sum(s => s.Interactions.Count));
        Assert.Equal(98, sessions.Count(s => s.CurrentQuery is not null));
        Assert.Equal(272, sessions.Sum(s => s.Interactions.Sum(i => i.Clicks.Count)));
        var judgments = TrecSessionReader.ReadJudgments(Path.Combine(folder!, "judgments2012.txt"));
        Assert.True(sessions.Count(s => s.Interactions.Any(i => i.Results.Any(r => judgments.ContainsKey((s.Topic!, r.DocId!))))) > 80);
    }

    [Fact]
    public void OnTheThuirFsdSampleQueryLevelDcgCorrelatesWithSatisfactionAsPublished()
    {
        var folder = SharedData.Find("thuir-fsd-qref-bootstrap0");
        Assert.SkipWhen(folder is null, "../shared/data/thuir-fsd-qref-bootstrap0 is not on this machine.");
        var rows = ThuirReader.ReadQueries(Path.Combine(folder!, "fsd_bootstrap0_test.tsv"));
        Assert.Equal(1230, rows.Count);
        var table = CorrelationStudy.Thuir(rows, new MetricOptions(), replicates: 100);
        // The published anchor (averaged over bootstraps) is Spearman 0.50 for query-level DCG on FSD.
        var dcg = table.Single(r => r.Metric == "DCG-last-query" && r.Slice == "query");
        Assert.InRange(dcg.Spearman.Value, 0.35, 0.65);
        Assert.Equal(1230, dcg.N);
        Assert.Equal(MetricCatalogue.All(new MetricOptions()).Count * 4, table.Count);
    }
}
