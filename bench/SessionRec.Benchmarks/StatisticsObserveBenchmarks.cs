namespace SessionRec.Benchmarks;

using BenchmarkDotNet.Attributes;
using SessionRec.Models.Baseline;

/// <summary>
/// What observing one event costs the tenant's statistics (the statistics builder's per-event work as the log grows):
/// a 12,000-item catalogue with a skewed popularity, sessions of up to 10 remembered items, warmed until the popular
/// items' neighbour rows are full and pruned as they grow.
/// </summary>
[MemoryDiagnoser]
public class StatisticsObserveBenchmarks
{
    private const int Items = 12_000;
    private const int Events = 1_000;
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private (string Item, string[] Preceding)[] _stream = [];
    private InteractionStatistics _statistics = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(11);
        string Draw() => $"item-{(int)(Items * Math.Pow(random.NextDouble(), 3))}"; // popular items far more often
        var stream = new List<(string, string[])>();
        while (stream.Count < 200_000)
        {
            var session = new List<string>();
            for (var step = random.Next(2, 16); step > 0; step--)
            {
                var item = Draw();
                stream.Add((item, [.. session.TakeLast(10)]));
                session.Add(item);
            }
        }

        _stream = [.. stream];
        _statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        for (var i = 0; i < 100_000; i++)
        {
            Observe();
        }
    }

    [Benchmark(Description = "observe one event", OperationsPerInvoke = Events)]
    public void ObserveEvents()
    {
        for (var i = 0; i < Events; i++)
        {
            Observe();
        }
    }

    /// <summary>The builder's publish: the whole snapshot written, every few seconds while events arrive.</summary>
    [Benchmark(Description = "write the statistics snapshot")]
    public long WriteSnapshot()
    {
        _buffer.Position = 0;
        using var writer = new BinaryWriter(_buffer, System.Text.Encoding.UTF8, leaveOpen: true);
        _statistics.WriteTo(writer);
        return _buffer.Position;
    }

    private readonly MemoryStream _buffer = new(64 << 20);

    private void Observe()
    {
        var (item, preceding) = _stream[_next++ % _stream.Length];
        _statistics.Observe(item, 1.0, T0.AddSeconds(_next), preceding);
    }
}
