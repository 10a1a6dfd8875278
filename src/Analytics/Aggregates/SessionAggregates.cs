namespace SessionRec.Analytics.Aggregates;

using SessionRec.Analytics.Sessions;
using SessionRec.Analytics.Statistics;

/// <summary>A session on the worst-sessions list: its id, when it ran, and its numbers for one surface and model.</summary>
public sealed record WorstSession(
    string SessionId, string UserId, DateTimeOffset Start, DateTimeOffset End, string Surface, string ModelVersion, int Requests, int ClickedRequests, double Metric);

/// <summary>What the analytics endpoint reports, read from aggregates rather than rebuilt from the log.</summary>
public sealed record AggregateReport(
    string Metric, int Sessions, int Requests, long Records, IReadOnlyList<DaySummary> ByDay, IReadOnlyList<ModelSummary> ByModel,
    IReadOnlyList<WorstSession> Worst, Comparison? Comparison, IReadOnlyList<string> Surfaces, IReadOnlyList<string> Models);

/// <summary>Which sessions a report covers: whole UTC days (those of <c>From</c> and of the instant before <c>To</c>), a surface, a model.</summary>
public sealed record AggregateQuery(
    DateTimeOffset? From, DateTimeOffset? To, string? Surface, string? Model, string Metric, int Worst, (string A, string B)? Compare = null)
{
    public int FirstDay => From is { } from ? SessionDigest.DayOf(from) : int.MinValue;

    public int LastDay => To is { } to ? SessionDigest.DayOf(to.AddTicks(-1)) : int.MaxValue;

    public bool Covers(int day, string surface, string model) =>
        day >= FirstDay && day <= LastDay
        && (Surface is null || string.Equals(surface, Surface, StringComparison.Ordinal))
        && (Model is null || string.Equals(model, Model, StringComparison.Ordinal));
}

/// <summary>
/// Session analytics kept as sums per UTC day × surface × model version, so a report costs the number of cells, not
/// the number of log records: per cell, the sessions, requests, clicked requests, conversions, HR@10 and MRR sums, and
/// per metric the sum and the sum of squares of the session values (means, and normal 95% intervals from them, for
/// the per-model rows and the A/B difference); the number of distinct sessions per day for each filter shape; and,
/// for the last <see cref="WorstDays"/> days, each cell's <see cref="WorstPerCell"/> worst sessions per metric (the
/// worst of any union of cells are among the union of their worst lists). Cells older than
/// <see cref="RetentionDays"/> days are dropped. Memory: ~(64 + 16 × metrics) bytes per cell, plus
/// WorstDays × cells a day × metrics × WorstPerCell entries of ~120 bytes.
/// </summary>
public sealed class SessionAggregates(IReadOnlyList<string> metrics, int worstPerCell = 100, int worstDays = 31, int retentionDays = 400)
{
    private const int Format = 1;

    // The distinct-session counts key "any surface" / "any model" as this (no surface or model name is empty).
    private const string Any = "";

    private static readonly double Z95 = 1.959963984540054;

    private readonly Dictionary<(int Day, string Surface, string Model), Cell> _cells = [];
    private readonly Dictionary<(int Day, string Surface, string Model), long> _sessions = [];

    public IReadOnlyList<string> Metrics { get; } = metrics;

    public int WorstPerCell { get; } = worstPerCell;

    public int WorstDays { get; } = worstDays;

    public int RetentionDays { get; } = retentionDays;

    /// <summary>Log records in the sessions added (less those subtracted).</summary>
    public long Records { get; private set; }

    public int CellCount => _cells.Count;

    public void Add(SessionDigest digest) => Apply(digest, +1);

    /// <summary>Undoes <see cref="Add"/> of the same digest (erasure), and takes the session off the worst lists.</summary>
    public void Subtract(SessionDigest digest) => Apply(digest, -1);

    /// <summary>Drops cells older than the retention and worst lists older than <see cref="WorstDays"/> before <paramref name="today"/>.</summary>
    public void Prune(int today)
    {
        foreach (var key in _cells.Keys.Where(k => k.Day < today - RetentionDays).ToList())
        {
            _cells.Remove(key);
        }

        foreach (var key in _sessions.Keys.Where(k => k.Day < today - RetentionDays).ToList())
        {
            _sessions.Remove(key);
        }

        foreach (var ((day, _, _), cell) in _cells)
        {
            if (day < today - WorstDays)
            {
                cell.Worst = null;
            }
        }
    }

    /// <summary>Whether any worst list names the user (erasure's proof).</summary>
    public bool Names(string userId) =>
        _cells.Values.Any(c => c.Worst?.Any(list => list.Any(w => string.Equals(w.UserId, userId, StringComparison.Ordinal))) == true);

    private void Apply(SessionDigest digest, int sign)
    {
        Records += sign * digest.Records;
        if (digest.Slices.Count == 0)
        {
            return;
        }

        var day = digest.Day;
        var counted = new HashSet<(string, string)>();
        foreach (var slice in digest.Slices)
        {
            foreach (var shape in new[] { (slice.Surface, slice.ModelVersion), (slice.Surface, Any), (Any, slice.ModelVersion), (Any, Any) })
            {
                if (counted.Add(shape))
                {
                    var key = (day, shape.Item1, shape.Item2);
                    var count = _sessions.GetValueOrDefault(key) + sign;
                    if (count <= 0)
                    {
                        _sessions.Remove(key);
                    }
                    else
                    {
                        _sessions[key] = count;
                    }
                }
            }

            var cellKey = (day, slice.Surface, slice.ModelVersion);
            if (!_cells.TryGetValue(cellKey, out var cell))
            {
                if (sign < 0)
                {
                    continue;
                }

                cell = new Cell(Metrics.Count, WorstPerCell);
                _cells[cellKey] = cell;
            }

            cell.Apply(slice, sign);
            if (cell.Sessions <= 0)
            {
                _cells.Remove(cellKey);
                continue;
            }

            if (sign > 0)
            {
                cell.OfferWorst(digest, slice);
            }
            else
            {
                cell.RemoveWorst(digest.Id);
            }
        }
    }

    /// <summary>
    /// The report for <paramref name="query"/> over the aggregates and the sessions still open (scored as they stand,
    /// not added): sessions, requests, per-day and per-model rows, the worst sessions and an A/B readout.
    /// </summary>
    public AggregateReport Report(AggregateQuery query, IReadOnlyCollection<SessionDigest> open)
    {
        var metric = IndexOf(query.Metric);
        var sums = new Dictionary<(int Day, string Surface, string Model), Sum>();
        var worst = new List<WorstSession>();
        var surfaces = new SortedSet<string>(StringComparer.Ordinal);
        var models = new SortedSet<string>(StringComparer.Ordinal);
        long sessions = 0;
        foreach (var (key, cell) in _cells)
        {
            surfaces.Add(key.Surface);
            models.Add(key.Model);
            if (!query.Covers(key.Day, key.Surface, key.Model))
            {
                continue;
            }

            sums.GetOrAdd(key).Add(cell, metric);
            if (cell.Worst is { } lists)
            {
                worst.AddRange(lists[metric].Select(w => new WorstSession(w.SessionId, w.UserId, w.Start, w.End, key.Surface, key.Model, w.Requests, w.ClickedRequests, w.Metric)));
            }
        }

        foreach (var ((day, surface, model), count) in _sessions)
        {
            if (day >= query.FirstDay && day <= query.LastDay && surface == (query.Surface ?? Any) && model == (query.Model ?? Any))
            {
                sessions += count;
            }
        }

        foreach (var digest in open)
        {
            var covered = false;
            foreach (var slice in digest.Slices)
            {
                surfaces.Add(slice.Surface);
                models.Add(slice.ModelVersion);
                if (!query.Covers(digest.Day, slice.Surface, slice.ModelVersion))
                {
                    continue;
                }

                covered = true;
                sums.GetOrAdd((digest.Day, slice.Surface, slice.ModelVersion)).Add(slice, metric);
                worst.Add(new WorstSession(digest.Id, digest.UserId, digest.Start, digest.End, slice.Surface, slice.ModelVersion, slice.Requests, slice.ClickedRequests, slice.Metrics[metric]));
            }

            sessions += covered ? 1 : 0;
        }

        var byDay = sums.OrderBy(s => s.Key.Day).ThenBy(s => s.Key.Surface, StringComparer.Ordinal).ThenBy(s => s.Key.Model, StringComparer.Ordinal)
            .Select(s => new DaySummary(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + s.Key.Day), s.Key.Surface, s.Key.Model,
                (int)s.Value.Sessions, (int)s.Value.Requests, s.Value.Mean, s.Value.Ctr, s.Value.HitRate10, s.Value.Mrr, s.Value.Conversion))
            .ToList();
        var byModel = sums.GroupBy(s => (s.Key.Surface, s.Key.Model))
            .OrderBy(g => g.Key.Surface, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal)
            .Select(g =>
            {
                var total = Sum.Of(g.Select(s => s.Value));
                return new ModelSummary(g.Key.Surface, g.Key.Model, (int)total.Sessions, (int)total.Requests, total.Estimate(), total.Ctr, total.HitRate10, total.Mrr, total.Conversion);
            })
            .ToList();
        Comparison? comparison = null;
        if (query.Compare is { } pair)
        {
            var a = Sum.Of(sums.Where(s => s.Key.Model == pair.A).Select(s => s.Value));
            var b = Sum.Of(sums.Where(s => s.Key.Model == pair.B).Select(s => s.Value));
            comparison = new Comparison(pair.A, pair.B, query.Metric, (int)a.Sessions, (int)b.Sessions, a.Estimate(), b.Estimate(), Sum.Difference(a, b));
        }

        var worstSessions = worst.OrderBy(w => w.Metric).ThenByDescending(w => w.Requests).ThenBy(w => w.SessionId, StringComparer.Ordinal)
            .ThenBy(w => w.Surface, StringComparer.Ordinal).ThenBy(w => w.ModelVersion, StringComparer.Ordinal).Take(query.Worst).ToList();
        return new AggregateReport(
            Metrics[metric], (int)sessions, (int)sums.Values.Sum(s => s.Requests), Records + open.Sum(d => (long)d.Records),
            byDay, byModel, worstSessions, comparison, [.. surfaces], [.. models]);
    }

    private int IndexOf(string metric)
    {
        for (var i = 0; i < Metrics.Count; i++)
        {
            if (string.Equals(Metrics[i], metric, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new ArgumentException($"Unknown session metric '{metric}'. Known: {string.Join(", ", Metrics)}.");
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Format);
        writer.Write(Metrics.Count);
        foreach (var name in Metrics)
        {
            writer.Write(name);
        }

        writer.Write(Records);
        writer.Write(_cells.Count);
        foreach (var (key, cell) in _cells)
        {
            WriteKey(writer, key);
            cell.WriteTo(writer);
        }

        writer.Write(_sessions.Count);
        foreach (var (key, count) in _sessions)
        {
            WriteKey(writer, key);
            writer.Write(count);
        }
    }

    private static void WriteKey(BinaryWriter writer, (int Day, string Surface, string Model) key)
    {
        writer.Write(key.Day);
        writer.Write(key.Surface);
        writer.Write(key.Model);
    }

    private static (int Day, string Surface, string Model) ReadKey(BinaryReader reader) => (reader.ReadInt32(), reader.ReadString(), reader.ReadString());

    /// <summary>Reads aggregates written by <see cref="WriteTo"/>; null when they were kept for other metrics (rebuild them).</summary>
    public static SessionAggregates? ReadFrom(BinaryReader reader, IReadOnlyList<string> metrics, int worstPerCell = 100, int worstDays = 31, int retentionDays = 400)
    {
        if (reader.ReadInt32() != Format)
        {
            throw new InvalidDataException("Unknown session aggregates format.");
        }

        var names = new string[reader.ReadInt32()];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = reader.ReadString();
        }

        if (!names.SequenceEqual(metrics, StringComparer.Ordinal))
        {
            return null;
        }

        var aggregates = new SessionAggregates(metrics, worstPerCell, worstDays, retentionDays) { Records = reader.ReadInt64() };
        var cells = reader.ReadInt32();
        for (var i = 0; i < cells; i++)
        {
            aggregates._cells[ReadKey(reader)] = Cell.ReadFrom(reader, metrics.Count, worstPerCell);
        }

        var counts = reader.ReadInt32();
        for (var i = 0; i < counts; i++)
        {
            aggregates._sessions[ReadKey(reader)] = reader.ReadInt64();
        }

        return aggregates;
    }

    private sealed record WorstEntry(string SessionId, string UserId, DateTimeOffset Start, DateTimeOffset End, int Requests, int ClickedRequests, double Metric);

    // Worst first: the lowest metric, then the most requests, then the session id.
    private static int CompareWorst(WorstEntry x, WorstEntry y)
    {
        var byMetric = x.Metric.CompareTo(y.Metric);
        if (byMetric != 0)
        {
            return byMetric;
        }

        var byRequests = y.Requests.CompareTo(x.Requests);
        return byRequests != 0 ? byRequests : string.CompareOrdinal(x.SessionId, y.SessionId);
    }

    private sealed class Cell(int metrics, int worstPerCell)
    {
        public long Sessions;
        public long Requests;
        public long Clicked;
        public long Converted;
        public double Hits;
        public double Reciprocal;
        public double[] MetricSum = new double[metrics];
        public double[] MetricSquares = new double[metrics];
        public List<WorstEntry>[]? Worst = Enumerable.Range(0, metrics).Select(_ => new List<WorstEntry>()).ToArray();

        public void Apply(SliceDigest slice, int sign)
        {
            Sessions += sign;
            Requests += sign * slice.Requests;
            Clicked += sign * slice.ClickedRequests;
            Converted += slice.Converted ? sign : 0;
            Hits += sign * slice.HitRate10Sum;
            Reciprocal += sign * slice.MrrSum;
            for (var m = 0; m < MetricSum.Length && m < slice.Metrics.Length; m++)
            {
                MetricSum[m] += sign * slice.Metrics[m];
                MetricSquares[m] += sign * slice.Metrics[m] * slice.Metrics[m];
            }
        }

        public void OfferWorst(SessionDigest digest, SliceDigest slice)
        {
            if (Worst is null)
            {
                return;
            }

            for (var m = 0; m < Worst.Length; m++)
            {
                var list = Worst[m];
                var entry = new WorstEntry(digest.Id, digest.UserId, digest.Start, digest.End, slice.Requests, slice.ClickedRequests, slice.Metrics[m]);
                if (list.Count >= worstPerCell && CompareWorst(entry, list[^1]) >= 0)
                {
                    continue;
                }

                var at = list.BinarySearch(entry, Comparer<WorstEntry>.Create(CompareWorst));
                list.Insert(at < 0 ? ~at : at, entry);
                if (list.Count > worstPerCell)
                {
                    list.RemoveAt(list.Count - 1);
                }
            }
        }

        public void RemoveWorst(string sessionId)
        {
            if (Worst is null)
            {
                return;
            }

            foreach (var list in Worst)
            {
                list.RemoveAll(w => string.Equals(w.SessionId, sessionId, StringComparison.Ordinal));
            }
        }

        public void WriteTo(BinaryWriter writer)
        {
            writer.Write(Sessions);
            writer.Write(Requests);
            writer.Write(Clicked);
            writer.Write(Converted);
            writer.Write(Hits);
            writer.Write(Reciprocal);
            for (var m = 0; m < MetricSum.Length; m++)
            {
                writer.Write(MetricSum[m]);
                writer.Write(MetricSquares[m]);
            }

            writer.Write(Worst is not null);
            if (Worst is null)
            {
                return;
            }

            foreach (var list in Worst)
            {
                writer.Write(list.Count);
                foreach (var w in list)
                {
                    writer.Write(w.SessionId);
                    writer.Write(w.UserId);
                    writer.Write(w.Start.UtcTicks);
                    writer.Write(w.End.UtcTicks);
                    writer.Write(w.Requests);
                    writer.Write(w.ClickedRequests);
                    writer.Write(w.Metric);
                }
            }
        }

        public static Cell ReadFrom(BinaryReader reader, int metrics, int worstPerCell)
        {
            var cell = new Cell(metrics, worstPerCell)
            {
                Sessions = reader.ReadInt64(),
                Requests = reader.ReadInt64(),
                Clicked = reader.ReadInt64(),
                Converted = reader.ReadInt64(),
                Hits = reader.ReadDouble(),
                Reciprocal = reader.ReadDouble(),
            };
            for (var m = 0; m < metrics; m++)
            {
                cell.MetricSum[m] = reader.ReadDouble();
                cell.MetricSquares[m] = reader.ReadDouble();
            }

            if (!reader.ReadBoolean())
            {
                cell.Worst = null;
                return cell;
            }

            for (var m = 0; m < metrics; m++)
            {
                var count = reader.ReadInt32();
                var list = cell.Worst![m];
                for (var i = 0; i < count; i++)
                {
                    list.Add(new WorstEntry(
                        reader.ReadString(), reader.ReadString(), new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero), new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero),
                        reader.ReadInt32(), reader.ReadInt32(), reader.ReadDouble()));
                }
            }

            return cell;
        }
    }

    /// <summary>One report row's running sums for the asked metric.</summary>
    private sealed class Sum
    {
        public long Sessions;
        public long Requests;
        public long Clicked;
        public long Converted;
        public double Hits;
        public double Reciprocal;
        public double Metric;
        public double Squares;

        public double Mean => Sessions == 0 ? double.NaN : Metric / Sessions;

        public double Ctr => Requests == 0 ? 0 : (double)Clicked / Requests;

        public double HitRate10 => Requests == 0 ? 0 : Hits / Requests;

        public double Mrr => Requests == 0 ? 0 : Reciprocal / Requests;

        public double Conversion => Sessions == 0 ? 0 : (double)Converted / Sessions;

        // The sample variance of the session values; NaN below two sessions.
        private double Variance => Sessions < 2 ? double.NaN : Math.Max(0, (Squares - (Metric * Metric / Sessions)) / (Sessions - 1));

        public void Add(Cell cell, int metric) =>
            Add(cell.Sessions, cell.Requests, cell.Clicked, cell.Converted, cell.Hits, cell.Reciprocal, cell.MetricSum[metric], cell.MetricSquares[metric]);

        public void Add(SliceDigest slice, int metric) =>
            Add(1, slice.Requests, slice.ClickedRequests, slice.Converted ? 1 : 0, slice.HitRate10Sum, slice.MrrSum, slice.Metrics[metric], slice.Metrics[metric] * slice.Metrics[metric]);

        public static Sum Of(IEnumerable<Sum> parts)
        {
            var total = new Sum();
            foreach (var p in parts)
            {
                total.Add(p.Sessions, p.Requests, p.Clicked, p.Converted, p.Hits, p.Reciprocal, p.Metric, p.Squares);
            }

            return total;
        }

        private void Add(long sessions, long requests, long clicked, long converted, double hits, double reciprocal, double metric, double squares)
        {
            Sessions += sessions;
            Requests += requests;
            Clicked += clicked;
            Converted += converted;
            Hits += hits;
            Reciprocal += reciprocal;
            Metric += metric;
            Squares += squares;
        }

        /// <summary>The mean with its normal 95% interval (undefined bounds below two sessions).</summary>
        public Estimate Estimate()
        {
            if (Sessions == 0)
            {
                return Statistics.Estimate.Undefined;
            }

            var half = Z95 * Math.Sqrt(Variance / Sessions);
            return new Estimate(Mean, Mean - half, Mean + half);
        }

        /// <summary>mean(b) − mean(a) with Welch's normal 95% interval.</summary>
        public static Estimate Difference(Sum a, Sum b)
        {
            if (a.Sessions == 0 || b.Sessions == 0)
            {
                return Statistics.Estimate.Undefined;
            }

            var difference = b.Mean - a.Mean;
            var half = Z95 * Math.Sqrt((a.Variance / a.Sessions) + (b.Variance / b.Sessions));
            return new Estimate(difference, difference - half, difference + half);
        }
    }
}

internal static class SumDictionaryExtensions
{
    public static TValue GetOrAdd<TKey, TValue>(this Dictionary<TKey, TValue> dictionary, TKey key)
        where TKey : notnull
        where TValue : new()
    {
        if (!dictionary.TryGetValue(key, out var value))
        {
            value = new TValue();
            dictionary[key] = value;
        }

        return value;
    }
}
