namespace SessionRec.Benchmarks;

using BenchmarkDotNet.Attributes;
using SessionRec.KnowledgeStore.Knowledge;

/// <summary>
/// What folding one record costs a full knowledge store (the ingestion path's per-event work in the user's
/// knowledge grain): a store at its default bounds (500 records, 2,000 entities), each record naming a dozen
/// entities of which a few are new, as a long-browsing user's views do.
/// </summary>
[MemoryDiagnoser]
public class KnowledgeFoldBenchmarks
{
    private const int Records = 4_096;
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private MemoryRecord[] _records = [];
    private UserKnowledge _knowledge = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _records = [.. Enumerable.Range(0, Records).Select(i => new MemoryRecord(
            T0.AddSeconds(i),
            KnowledgeSource.Viewed,
            $"record {i}",
            $"item-{i}",
            [.. Enumerable.Range(0, 12).Select(_ =>
            {
                // Three in four mentions are of the 1,500 entities the user keeps seeing; the rest are new ones.
                var id = random.Next(4) == 0 ? $"new-{random.Next(1_000_000)}" : $"seen-{random.Next(1_500)}";
                return new EntityMention("phrase:" + id, id);
            })]))];

        _knowledge = new UserKnowledge();
        foreach (var record in _records)
        {
            _knowledge.Add(record with { At = T0.AddSeconds(-Records) });
        }
    }

    [Benchmark(Description = "fold one record into a full store")]
    public void Fold()
    {
        var record = _records[_next++ % Records];
        _knowledge.Add(record with { At = T0.AddSeconds(_next) });
    }
}
