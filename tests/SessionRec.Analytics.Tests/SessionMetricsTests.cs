namespace SessionRec.Analytics.Tests;

using SessionRec.Analytics.Metrics;

/// <summary>Every expected value here was computed by hand from the formulas in docs/analytics.md.</summary>
public class SessionMetricsTests
{
    private static readonly MetricOptions Linear = new() { Gain = GainForm.Linear, MaxGrade = 1 };

    private static ShownResult R(string id, double feedback = 0, double? judged = null) => new(id, judged, feedback);

    private static EvalSession Session(params ShownResult[][] queries) => new(queries.Select(q => new SessionQuery(q)).ToList());

    [Fact]
    public void DcgUsesExponentialGainsAndLogDiscount()
    {
        var options = new MetricOptions();
        Assert.Equal(1 + (3 / 2.0), SessionMetrics.Dcg([1, 0, 2], options), 9);
        Assert.Equal(3 + (1 / Math.Log2(3)), SessionMetrics.IdealDcg([1, 0, 2], options), 9);
        Assert.Equal(1, SessionMetrics.Dcg([1, 0, 2], options with { Depth = 2 }), 9);
    }

    [Fact]
    public void SessionDcgDiscountsLaterQueries()
    {
        double[][] gains = [[1, 0], [0, 1]];
        var q2 = 1 / Math.Log2(3);
        Assert.Equal(1 + (q2 / 1.5), SessionMetrics.Sdcg(gains, Linear), 9);
        Assert.Equal((1 + (q2 / 1.5)) / (1 + (1 / 1.5)), SessionMetrics.Nsdcg(gains, Linear), 9);
        Assert.Equal(((0.5 * 1) + q2) / 1.5, SessionMetrics.RecencyDcg(gains, Linear with { RecencyDecay = 0.5 }), 9);
    }

    [Fact]
    public void NsdcgOfASessionWithNothingRelevantIsZero()
    {
        Assert.Equal(0, SessionMetrics.Nsdcg([[0, 0], [0]], Linear));
        Assert.Equal(0, SessionMetrics.RecencyDcg([], Linear));
    }

    [Fact]
    public void SessionRbpWeighsRanksAndQueries()
    {
        // p = 0.8, b = 0.5: bp = 0.4, query weight (0.8 − 0.4) / (1 − 0.4) = 2/3.
        var options = Linear with { RbpPersistence = 0.8, RbpBalance = 0.5 };
        Assert.Equal(0.2 * (1 + (2.0 / 3 * 0.4)), SessionMetrics.Srbp([[1, 0], [0, 1]], options), 9);
    }

    // q1 shows a (skipped) and b (clicked); q2 shows c and a (clicked). Snippet 100, document 500,
    // reformulation 200, patience 2000, linear gains.
    private static readonly EvalSession Reformulated = Session([R("a"), R("b", 1)], [R("c"), R("a", 1)]);

    private static readonly MetricOptions UOptions = Linear with
    {
        SnippetLength = 100, DocumentLength = 500, ReformulationCost = 200, Patience = 2000,
    };

    [Fact]
    public void NumWithAllPartsCreditsTheSkippedResultWhereItWasFirstShown()
    {
        // A2: a is relevant in q1 too, so q1 listed both relevant results first: a at 100 (0.95), b at 200 (0.90),
        // the same as the ideal session.
        Assert.Equal(1, SessionMetrics.Num(Reformulated, UOptions, NumParts.Full), 9);
        Assert.Equal(1.85, SessionMetrics.Num(Reformulated, UOptions, NumParts.Full with { SessionNormalisation = false }), 9);
    }

    [Fact]
    public void NumWithoutClickEnhancementCreditsTheClickOnlyAfterTheReformulation()
    {
        // b at 200 (0.90), b's page to 700, reformulation to 900, c at 1000, a at 1100 (0.45).
        Assert.Equal(1.35 / 1.85, SessionMetrics.Num(Reformulated, UOptions, NumParts.Full with { ClickEnhancement = false }), 9);
    }

    [Fact]
    public void TheReformulationCostMovesEverythingAfterTheFirstQueryLater()
    {
        // Without A2 and without the cost, a gains at 900: 0.55.
        var parts = new NumParts(SessionNormalisation: true, ReformulationCost: false, ClickEnhancement: false);
        Assert.Equal(1.45 / 1.85, SessionMetrics.Num(Reformulated, UOptions, parts), 9);
    }

    [Fact]
    public void NumIsOneForTheIdealSessionAndZeroWithoutRelevantResults()
    {
        var judged = Session([R("a", 0, 1), R("b", 0, 1)]);
        Assert.Equal(1, SessionMetrics.Num(judged, UOptions with { Labels = LabelSource.Judged }, NumParts.Full), 9);
        // Both clicked: reading a's page delays b, 0.95 + 0.65 over 0.95 + 0.90.
        Assert.Equal(1.6 / 1.85, SessionMetrics.Num(Session([R("a", 1), R("b", 1)]), UOptions, NumParts.Full), 9);
        Assert.Equal(0, SessionMetrics.Num(Session([R("a"), R("b")]), UOptions, NumParts.Full));
    }

    [Fact]
    public void NumNeverExceedsOne()
    {
        var random = new Random(3);
        for (var trial = 0; trial < 200; trial++)
        {
            var queries = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Enumerable.Range(0, random.Next(1, 6))
                .Select(_ => R("d" + random.Next(6), random.Next(3), random.Next(4))).ToArray()).ToArray();
            foreach (var labels in new[] { LabelSource.Judged, LabelSource.Feedback })
            {
                var value = SessionMetrics.Num(Session(queries), new MetricOptions { Labels = labels }, NumParts.Full);
                Assert.InRange(value, 0, 1 + 1e-12);
            }
        }
    }

    [Fact]
    public void TextReadPastThePatienceIsWorthNothing()
    {
        var options = UOptions with { Patience = 150 };
        // b's snippet ends at 200 > 150.
        Assert.Equal(0, SessionMetrics.Num(Session([R("a"), R("b", 1)]), options, NumParts.Full with { SessionNormalisation = false }));
    }

    [Fact]
    public void ClickEnhancementGivesEveryShowingTheBestLabelOfTheSession()
    {
        var gains = SessionLabels.Gains(Reformulated, LabelSource.Feedback, clickEnhancement: true);
        Assert.Equal([1.0, 1.0], gains[0]);
        Assert.Equal([0.0, 1.0], gains[1]);
        var plain = SessionLabels.Gains(Reformulated, LabelSource.Feedback);
        Assert.Equal([0.0, 1.0], plain[0]);
    }

    [Fact]
    public void NegativeJudgmentsCountAsZero()
    {
        Assert.Equal(0, SessionLabels.Label(new ShownResult("x", -2, 0), LabelSource.Judged));
        Assert.Equal(0, SessionLabels.Label(new ShownResult("x", null, 0), LabelSource.Judged));
    }

    [Fact]
    public void ListMetricsReadFeedbackPositions()
    {
        Assert.Equal(1, ListMetrics.HitRate([3, 12], 10));
        Assert.Equal(0, ListMetrics.HitRate([12], 10));
        Assert.Equal(1 / 3.0, ListMetrics.ReciprocalRank([5, 3]), 9);
        Assert.Equal(0, ListMetrics.ReciprocalRank([]));
    }
}
