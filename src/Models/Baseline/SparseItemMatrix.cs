namespace SessionRec.Models.Baseline;

/// <summary>Item × item weights stored row by row (compressed sparse rows), built once from sequences.</summary>
public sealed class SparseItemMatrix
{
    private readonly int[] _offsets;
    private readonly int[] _columns;
    private readonly float[] _values;

    private SparseItemMatrix(int[] offsets, int[] columns, float[] values)
    {
        _offsets = offsets;
        _columns = columns;
        _values = values;
    }

    public int Rows => _offsets.Length - 1;

    public ReadOnlySpan<int> Columns(int row) => _columns.AsSpan(_offsets[row], _offsets[row + 1] - _offsets[row]);

    public ReadOnlySpan<float> Values(int row) => _values.AsSpan(_offsets[row], _offsets[row + 1] - _offsets[row]);

    /// <summary>Adds <paramref name="weight"/> × row into <paramref name="scores"/>.</summary>
    public void AddRow(int row, float weight, Span<float> scores)
    {
        var columns = Columns(row);
        var values = Values(row);
        for (var n = 0; n < columns.Length; n++)
        {
            scores[columns[n]] += weight * values[n];
        }
    }

    /// <summary>Counts of b directly following a in some sequence.</summary>
    public static SparseItemMatrix Transitions(IReadOnlyList<int[]> sequences, int items) =>
        Build(items, sequences, (s, emit) =>
        {
            for (var p = 0; p + 1 < s.Length; p++)
            {
                emit(s[p], s[p + 1], 1);
            }
        });

    /// <summary>
    /// Counts of b following a within <paramref name="window"/> positions (either direction when
    /// <paramref name="symmetric"/>), or anywhere in the same sequence when the window is 0.
    /// </summary>
    /// <param name="byDistance">Weigh each pair 1/distance (1 for neighbours, 1/2 for one item between...), as
    /// the service's <see cref="InteractionStatistics"/> does.</param>
    public static SparseItemMatrix Cooccurrence(IReadOnlyList<int[]> sequences, int items, int window, bool symmetric, bool byDistance = false) =>
        Build(items, sequences, (s, emit) =>
        {
            for (var p = 0; p < s.Length; p++)
            {
                var end = window == 0 ? s.Length : Math.Min(s.Length, p + window + 1);
                for (var q = p + 1; q < end; q++)
                {
                    var weight = byDistance ? 1f / (q - p) : 1f;
                    emit(s[p], s[q], weight);
                    if (symmetric)
                    {
                        emit(s[q], s[p], weight);
                    }
                }
            }
        });

    /// <summary>Applies <paramref name="transform"/>(row, column, value) to every stored value.</summary>
    public SparseItemMatrix Map(Func<int, int, float, float> transform)
    {
        var values = new float[_values.Length];
        for (var r = 0; r < Rows; r++)
        {
            for (var n = _offsets[r]; n < _offsets[r + 1]; n++)
            {
                values[n] = transform(r, _columns[n], _values[n]);
            }
        }

        return new SparseItemMatrix(_offsets, _columns, values);
    }

    private static SparseItemMatrix Build(int items, IReadOnlyList<int[]> sequences, Action<int[], Action<int, int, float>> pairs)
    {
        var rows = new Dictionary<int, float>[items];
        foreach (var s in sequences)
        {
            pairs(s, (a, b, w) =>
            {
                var row = rows[a] ??= [];
                row[b] = row.GetValueOrDefault(b) + w;
            });
        }

        var offsets = new int[items + 1];
        for (var r = 0; r < items; r++)
        {
            offsets[r + 1] = offsets[r] + (rows[r]?.Count ?? 0);
        }

        var columns = new int[offsets[items]];
        var values = new float[offsets[items]];
        for (var r = 0; r < items; r++)
        {
            if (rows[r] is not { } row)
            {
                continue;
            }

            var n = offsets[r];
            foreach (var (c, v) in row.OrderBy(e => e.Key))
            {
                columns[n] = c;
                values[n++] = v;
            }
        }

        return new SparseItemMatrix(offsets, columns, values);
    }
}
