namespace SessionRec.Benchmarks;

using BenchmarkDotNet.Attributes;
using SessionRec.Models.Baseline;
using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;
using SessionRec.Training;
using SessionRec.Training.Export;
using SessionRec.Training.MultiRound;
using static TorchSharp.torch;

/// <summary>
/// Multi-round retrieval's per-request model work on a 12,000-item catalogue, through the serving loop the catalogue
/// grain runs (<see cref="MultiRoundRetrieval"/>): the session encoder, then per round a full scan with earlier
/// rounds masked and the top 20, later rounds after a round-encoder call. The baseline is the single pass the
/// ranking stage starts from (session encoder, scan, top 20). Adapter weights are random (latency does not depend on
/// their values; untrained gates would be zeros).
/// </summary>
[MemoryDiagnoser]
public class MultiRoundBenchmarks
{
    private const int PerRound = 20;
    private OnnxRecommenderModel _model = null!;
    private ItemVectorIndex _index = null!;
    private float[] _input = null!;
    private int _length;
    private float[] _scores = null!;
    private float[] _memory = null!;
    private float[] _user = null!;
    private string _folder = null!;

    [Params(1, 2, 3, 4, 5)]
    public int Rounds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
        var random = new Random(1);
        var items = SyntheticCatalogue.Items(12_000, random);
        var featurizer = ItemFeaturizer.Fit(items);
        var options = new M2TRecOptions();
        manual_seed(1);
        var module = new M2TRecModule(options, featurizer, items.Count);
        module.eval();
        var adapters = new RoundAdapters(options.Dim, PerRound, 0);
        using (no_grad())
        {
            foreach (var (_, parameter) in adapters.named_parameters())
            {
                parameter.add_(randn_like(parameter) * 0.1f);
            }
        }

        adapters.eval();
        var trained = new TrainedModel(module, featurizer, ItemFeatureTable.Build(featurizer, items.Take(10).ToList()), [], TimeSpan.Zero);
        var rounds = new MultiRoundModel(trained, adapters, new MultiRoundOptions { Rounds = 5, PerRound = PerRound }, [], TimeSpan.Zero);
        _folder = Path.Combine(Path.GetTempPath(), "sessionrec-bench-" + Guid.NewGuid().ToString("N"));
        ModelFolderWriter.Write(_folder, "bench", trained, new TrainingData("synthetic", "bench", 0, items.Count, 0), [], null, multiRound: rounds);
        _model = OnnxRecommenderModel.Load(_folder);
        _index = new ItemVectorIndex("bench", _model.Dim);
        _index.Set([.. items.Select(i => i.Id)], _model.EncodeItems(items));
        _input = _index.SessionInput([.. Enumerable.Range(0, 10).Select(i => $"item-{i * 7}")], options.MaxLength, out _length)!;
        _scores = new float[_index.Count];
        var earlier = Math.Max(1, Rounds - 1) * PerRound;
        _memory = new float[earlier * _model.Dim];
        for (var p = 0; p < earlier; p++)
        {
            _index.Vector(p * 13).CopyTo(_memory.AsSpan(p * _model.Dim, _model.Dim));
        }

        _user = _model.EncodeSessionsWithUser(_input, 1, _length, [_length - 1]).User;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "single pass: session encoder + scan + top-20")]
    public int SinglePass()
    {
        var session = _model.EncodeSessions(_input, 1, _length, [_length - 1]);
        _index.Score(session, _scores);
        return TopK.Select(_scores, PerRound).Count;
    }

    [Benchmark(Description = "multi-round retrieval (Rounds rounds of 20)")]
    public int Retrieve()
    {
        var (session, user) = _model.EncodeSessionsWithUser(_input, 1, _length, [_length - 1]);
        return MultiRoundRetrieval.Run(_model, _model.MultiRound!, _index, _input, _length, session, MultiRoundRetrieval.Start.Fresh(user), Rounds, _ => false).Retrieved.Count;
    }

    [Benchmark(Description = "one round-encoder call after max(1, Rounds - 1) rounds")]
    public float[] RoundEncoder() =>
        _model.EncodeRound(_input, 1, _length, [_length - 1], _memory, _memory.Length / _model.Dim, _user, new float[_model.Dim]).Session;
}
