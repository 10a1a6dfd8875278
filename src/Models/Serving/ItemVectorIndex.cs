namespace SessionRec.Models.Serving;

using SessionRec.Models.Ranking;

/// <summary>
/// A catalogue's item vectors under one model version: one row per item id, replaced in place when an item
/// changes and appended when one is added. Not thread-safe: the owning catalogue grain serialises writes, and
/// reads happen in its turns.
/// </summary>
/// <param name="cosine">Score against unit-length item vectors (the model's scoring); the session input keeps the raw ones.</param>
public sealed class ItemVectorIndex(string modelVersion, int dim, bool cosine = false)
{
    private float[] _scale = new float[1024];
    private readonly Dictionary<string, int> _rows = new(StringComparer.Ordinal);
    private readonly List<string> _ids = [];
    private float[] _matrix = new float[1024 * dim];

    public string ModelVersion => modelVersion;

    public int Dim => dim;

    public int Count => _ids.Count;

    public ReadOnlySpan<float> Matrix => _matrix.AsSpan(0, _ids.Count * dim);

    public string IdOf(int row) => _ids[row];

    public bool TryGetRow(string itemId, out int row) => _rows.TryGetValue(itemId, out row);

    public ReadOnlySpan<float> Vector(int row) => _matrix.AsSpan(row * dim, dim);

    /// <summary>Sets the vectors [ids.Count, Dim] of these items (new ids are appended).</summary>
    public void Set(IReadOnlyList<string> ids, ReadOnlySpan<float> vectors)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(vectors.Length, ids.Count * dim);
        for (var i = 0; i < ids.Count; i++)
        {
            if (!_rows.TryGetValue(ids[i], out var row))
            {
                row = _ids.Count;
                if ((row + 1) * dim > _matrix.Length)
                {
                    Array.Resize(ref _matrix, Math.Max(_matrix.Length * 2, (row + 1) * dim));
                }

                if (row >= _scale.Length)
                {
                    Array.Resize(ref _scale, Math.Max(_scale.Length * 2, row + 1));
                }

                _rows[ids[i]] = row;
                _ids.Add(ids[i]);
            }

            var vector = vectors.Slice(i * dim, dim);
            vector.CopyTo(_matrix.AsSpan(row * dim, dim));
            _scale[row] = cosine ? 1f / MathF.Max(MathF.Sqrt(VectorMath.Dot(vector, vector)), 1e-6f) : 1f;
        }
    }

    /// <summary>The session's items as model input [length, Dim]: the last <paramref name="maxLength"/> items the index knows.</summary>
    public float[]? SessionInput(IReadOnlyList<string> sessionItems, int maxLength, out int length)
    {
        var rows = new List<int>(Math.Min(sessionItems.Count, maxLength));
        for (var i = sessionItems.Count - 1; i >= 0 && rows.Count < maxLength; i--)
        {
            if (_rows.TryGetValue(sessionItems[i], out var row))
            {
                rows.Add(row);
            }
        }

        length = rows.Count;
        if (length == 0)
        {
            return null;
        }

        rows.Reverse();
        var input = new float[length * dim];
        for (var p = 0; p < length; p++)
        {
            Vector(rows[p]).CopyTo(input.AsSpan(p * dim, dim));
        }

        return input;
    }

    /// <summary>Dot product of <paramref name="session"/> with every item vector, into <paramref name="scores"/>[Count].</summary>
    public void Score(ReadOnlySpan<float> session, Span<float> scores)
    {
        var matrix = Matrix;
        for (var row = 0; row < _ids.Count; row++)
        {
            scores[row] = _scale[row] * VectorMath.Dot(session, matrix.Slice(row * dim, dim));
        }
    }
}
