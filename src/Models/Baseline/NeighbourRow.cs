namespace SessionRec.Models.Baseline;

using System.Collections;

/// <summary>
/// One item's neighbours in <see cref="InteractionStatistics"/> (item index → weight), in the order they were
/// recorded: a view of the builder's growing row, or a slice of the packed arrays a snapshot is read into. A struct
/// with its own enumerator, so a request that walks the rows of a session's items allocates nothing for it.
/// </summary>
public readonly struct NeighbourRow : IEnumerable<KeyValuePair<int, float>>
{
    private readonly Dictionary<int, float>? _growing;
    private readonly int[]? _items;
    private readonly float[]? _weights;
    private readonly int _start;
    private readonly int _count;

    internal NeighbourRow(Dictionary<int, float> growing)
    {
        _growing = growing;
        _count = growing.Count;
    }

    internal NeighbourRow(int[] items, float[] weights, int start, int count)
    {
        _items = items;
        _weights = weights;
        _start = start;
        _count = count;
    }

    public int Count => _count;

    /// <summary>The weight of <paramref name="item"/> in this row (0 when it is not a neighbour).</summary>
    public float this[int item]
    {
        get
        {
            if (_growing is not null)
            {
                return _growing.GetValueOrDefault(item);
            }

            if (_items is null)
            {
                return 0;
            }

            var at = Array.IndexOf(_items, item, _start, _count);
            return at < 0 ? 0 : _weights![at];
        }
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<int, float>> IEnumerable<KeyValuePair<int, float>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator : IEnumerator<KeyValuePair<int, float>>
    {
        private readonly NeighbourRow _row;
        private Dictionary<int, float>.Enumerator _growing;
        private int _at;

        internal Enumerator(NeighbourRow row)
        {
            _row = row;
            _at = row._start - 1;
            if (row._growing is not null)
            {
                _growing = row._growing.GetEnumerator();
            }
        }

        public KeyValuePair<int, float> Current => _row._growing is not null
            ? _growing.Current
            : new KeyValuePair<int, float>(_row._items![_at], _row._weights![_at]);

        object IEnumerator.Current => Current;

        public bool MoveNext() => _row._growing is not null ? _growing.MoveNext() : ++_at < _row._start + _row._count;

        public void Reset() => throw new NotSupportedException();

        public readonly void Dispose()
        {
        }
    }
}
