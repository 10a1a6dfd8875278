namespace SessionRec.Benchmarks;

using BenchmarkDotNet.Attributes;
using SessionRec.Models.Baseline;
using SessionRec.Models.Featurization;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;
using SessionRec.Training;
using SessionRec.Training.Export;

/// <summary>
/// The per-request model work of the recommendation endpoint, with the production shapes (d = 64, 2 layers,
/// 2 heads): the session encoder through ONNX Runtime, then the dot-product scan and top-100 over the catalogue.
/// Weights are untrained (latency does not depend on their values); catalogues are synthetic with realistic
/// metadata. The baseline is the co-occurrence scoring the service used before the model.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private OnnxRecommenderModel _model = null!;
    private ItemVectorIndex _index = null!;
    private float[] _sessionInput = null!;
    private float[] _session = null!;
    private float[] _scores = null!;
    private string _folder = null!;
    private CooccurrenceSource _cooccurrence = null!;
    private Models.Pipeline.CandidateQuery _query = null!;
    private InteractionStatistics _statistics = null!;
    private RankingTables _tables = null!;
    private int[] _queryRows = null!;
    private ItemVectorIndex _candidateIndex = null!;
    private RankingTables _candidateTables = null!;

    [Params(12_000, 100_000)]
    public int Items { get; set; }

    [Params(5, 20)]
    public int SessionLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
        var random = new Random(1);
        var items = SyntheticCatalogue.Items(Items, random);
        var featurizer = ItemFeaturizer.Fit(items);
        var options = new M2TRecOptions();
        var module = new M2TRecModule(options, featurizer, items.Count);
        module.eval();
        var trained = new TrainedModel(module, featurizer, ItemFeatureTable.Build(featurizer, items.Take(10).ToList()), [], TimeSpan.Zero);
        _folder = Path.Combine(Path.GetTempPath(), "sessionrec-bench-" + Guid.NewGuid().ToString("N"));
        ModelFolderWriter.Write(_folder, "bench", trained, new TrainingData("synthetic", "bench", 0, items.Count, 0), [], null);
        _model = OnnxRecommenderModel.Load(_folder);
        _index = new ItemVectorIndex("bench", _model.Dim);
        _index.Set([.. items.Select(i => i.Id)], _model.EncodeItems(items));
        _sessionInput = _index.SessionInput([.. Enumerable.Range(0, SessionLength).Select(i => $"item-{i * 7}")], options.MaxLength, out _)!;
        _session = _model.EncodeSessions(_sessionInput, 1, SessionLength, [SessionLength - 1]);
        _scores = new float[_index.Count];

        // The baseline: co-occurrence statistics from 200k synthetic session events over the same catalogue.
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;
        for (var s = 0; s < 20_000; s++)
        {
            var session = new List<string>();
            var anchor = random.Next(Items);
            var number = statistics.Neighbours.Start();
            for (var n = 0; n < 10; n++)
            {
                var item = $"item-{(anchor + random.Next(50)) % Items}";
                statistics.Observe(item, 1, at, session, number);
                session.Add(item);
            }
        }

        // Requests rank on a replica's copy of the published snapshot, read back as the service reads it.
        using (var buffer = new MemoryStream())
        {
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                statistics.WriteTo(writer);
            }

            buffer.Position = 0;
            using var reader = new BinaryReader(buffer);
            statistics = InteractionStatistics.ReadFrom(reader);
        }

        _cooccurrence = new CooccurrenceSource(statistics);
        _statistics = statistics;
        _tables = RankingTables.Build(_index, statistics);
        _query = new Models.Pipeline.CandidateQuery([.. Enumerable.Range(0, SessionLength).Select(i => $"item-{i * 7}")], null, 100);
        _queryRows = [.. _query.SessionItems.Select(id => statistics.TryGetIndex(id, out var row) ? row : -1).Where(row => row >= 0)];

        // The same rows with the approximate index the service attaches above its threshold (calibrated to its recall
        // floor), for the candidate ranking.
        _candidateIndex = new ItemVectorIndex("bench", _model.Dim);
        var copy = _index.Copy();
        _candidateIndex.Set(copy.Ids, copy.Vectors);
        var build = _candidateIndex.BeginAnn();
        var ivf = InvertedFileIndex.Build(_candidateIndex, _candidateIndex.Count);
        ivf.Calibrate(_candidateIndex, 0.97);
        _candidateIndex.AttachAnn(ivf, build);
        _candidateTables = RankingTables.Build(_candidateIndex, statistics);
    }

    [Benchmark(Baseline = true, Description = "baseline: co-occurrence candidates (top-300)")]
    public int Cooccurrence()
    {
        var into = new List<Models.Pipeline.Candidate>(300);
        _cooccurrence.Collect(_query, 300, into);
        return into.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Description = "session encoder (ONNX Runtime, batch 1)")]
    public float[] EncodeSession() => _model.EncodeSessions(_sessionInput, 1, SessionLength, [SessionLength - 1]);

    /// <summary>
    /// What the service runs after the encoder: the scan plus the fusion terms, session-kNN included (weights as
    /// Beauty's tuning chose them: README, "Train and evaluate"), top-100.
    /// </summary>
    [Benchmark(Description = "ranking stage: scan + fusion + session-kNN + top-100")]
    public int RankingStage()
    {
        var into = new List<Models.Pipeline.Candidate>(100);
        new ModelRankerSource(_index, _session, _statistics, new FusionWeights(2, 16, -0.5f, 2, SessionKnn: 0.25f), _tables).Collect(_query, 100, into);
        return into.Count;
    }

    /// <summary>The ranking stage as the service runs it above its approximate-index threshold: 400 candidates from the
    /// inverted file, united with the rows the sparse terms name, each scored with the full formula, top-100.</summary>
    [Benchmark(Description = "ranking stage over candidates: inverted file + fusion + session-kNN + top-100")]
    public int CandidateRanking()
    {
        var into = new List<Models.Pipeline.Candidate>(100);
        new ModelRankerSource(_candidateIndex, _session, _statistics, new FusionWeights(2, 16, -0.5f, 2, SessionKnn: 0.25f), _candidateTables).Collect(_query, 100, into);
        return into.Count;
    }

    [Benchmark(Description = "session-kNN votes alone")]
    public int SessionKnn()
    {
        var votes = new Dictionary<int, float>();
        _statistics.Neighbours.Score(_queryRows, votes, 0.25f);
        return votes.Count;
    }

    [Benchmark(Description = "score all items + top-100")]
    public int ScoreAndTopK()
    {
        _index.Score(_session, _scores);
        return TopK.Select(_scores, 100).Count;
    }
}
