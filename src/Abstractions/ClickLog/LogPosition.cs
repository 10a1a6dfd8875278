namespace SessionRec.Abstractions.ClickLog;

using System.Globalization;

/// <summary>
/// A reader's place in a tenant's click log: per partition, the last sequence it read (0: none yet). A log of one
/// partition (every log before partitioning) has one number, written as it always was; <see cref="Total"/> grows
/// whenever any partition's reader moves, so it can stand for the position where one number is wanted (a published
/// snapshot's version, a report).
/// </summary>
public sealed class LogPosition : IEquatable<LogPosition>
{
    private readonly long[] _last;

    private LogPosition(long[] last) => _last = last;

    public static LogPosition Start(int partitions) =>
        partitions >= 1 ? new LogPosition(new long[partitions]) : throw new ArgumentOutOfRangeException(nameof(partitions));

    public static LogPosition Of(params ReadOnlySpan<long> last) =>
        last.Length >= 1 ? new LogPosition(last.ToArray()) : throw new ArgumentException("A position has at least one partition.", nameof(last));

    public int Partitions => _last.Length;

    /// <summary>The last sequence read in <paramref name="partition"/>.</summary>
    public long this[int partition] => _last[partition];

    public long Total
    {
        get
        {
            var total = 0L;
            foreach (var last in _last)
            {
                total += last;
            }

            return total;
        }
    }

    /// <summary>The lowest sequence any partition reads next: a record below it has been read wherever it is.</summary>
    public long LowestNext
    {
        get
        {
            var lowest = long.MaxValue;
            foreach (var last in _last)
            {
                lowest = Math.Min(lowest, last + 1);
            }

            return lowest;
        }
    }

    /// <summary>This position with <paramref name="partition"/> moved to <paramref name="sequence"/> (never back).</summary>
    public LogPosition With(int partition, long sequence)
    {
        if (sequence <= _last[partition])
        {
            return this;
        }

        var last = (long[])_last.Clone();
        last[partition] = sequence;
        return new LogPosition(last);
    }

    /// <summary>This position moved past <paramref name="records"/> (a page read after it): one copy, not one a record.</summary>
    public LogPosition After(IReadOnlyList<ClickLogRecord> records)
    {
        if (records.Count == 0)
        {
            return this;
        }

        var last = (long[])_last.Clone();
        foreach (var record in records)
        {
            last[record.Partition] = Math.Max(last[record.Partition], record.Sequence);
        }

        return new LogPosition(last);
    }

    /// <summary>Whether some partition of <paramref name="last"/> holds records after this position.</summary>
    public bool IsBehind(LogPosition last)
    {
        for (var p = 0; p < Math.Min(_last.Length, last._last.Length); p++)
        {
            if (_last[p] < last._last[p])
            {
                return true;
            }
        }

        return false;
    }

    public long[] ToArray() => (long[])_last.Clone();

    // One partition: the number as it always was (older snapshots hold just that). More: minus their count, then each.
    public void WriteTo(BinaryWriter writer)
    {
        if (_last.Length == 1)
        {
            writer.Write(_last[0]);
            return;
        }

        writer.Write(-(long)_last.Length);
        foreach (var last in _last)
        {
            writer.Write(last);
        }
    }

    public static LogPosition ReadFrom(BinaryReader reader)
    {
        var first = reader.ReadInt64();
        if (first >= 0)
        {
            return new LogPosition([first]);
        }

        var last = new long[checked((int)-first)];
        for (var p = 0; p < last.Length; p++)
        {
            last[p] = reader.ReadInt64();
        }

        return new LogPosition(last);
    }

    /// <summary>The position as a cursor a client hands back: the per-partition sequences joined by dots (one partition: the number).</summary>
    public override string ToString() => string.Join('.', _last.Select(l => l.ToString(CultureInfo.InvariantCulture)));

    public static bool TryParse(string? text, int partitions, out LogPosition position)
    {
        position = Start(Math.Max(1, partitions));
        var parts = text?.Split('.') ?? [];
        if (parts.Length != partitions)
        {
            return false;
        }

        var last = new long[partitions];
        for (var p = 0; p < partitions; p++)
        {
            if (!long.TryParse(parts[p], NumberStyles.None, CultureInfo.InvariantCulture, out last[p]))
            {
                return false;
            }
        }

        position = new LogPosition(last);
        return true;
    }

    public bool Equals(LogPosition? other) => other is not null && _last.AsSpan().SequenceEqual(other._last);

    public override bool Equals(object? obj) => Equals(obj as LogPosition);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var last in _last)
        {
            hash.Add(last);
        }

        return hash.ToHashCode();
    }
}
