namespace SessionRec.Models.Serving;

using System.Collections.Concurrent;
using SessionRec.Models.Ranking;

/// <summary>
/// A catalogue's item vectors under one model version: one row per item id, replaced in place when an item
/// changes and appended when one is added. One writer at a time (a silo's catalogue replica) and any number of
/// readers without a lock: a row is written before <see cref="Count"/> publishes it, and grown arrays are new arrays,
/// so a reader sees every row up to the count it read. A vector replaced while a request scans it may be read half
/// old, half new by that one request (one item's score, once); nothing else is torn.
/// </summary>
/// <param name="cosine">Score against unit-length item vectors (the model's scoring); the session input keeps the raw ones.</param>
public sealed class ItemVectorIndex(string modelVersion, int dim, bool cosine = false)
{
    private readonly ConcurrentDictionary<string, int> _rows = new(StringComparer.Ordinal);
    private float[] _scale = new float[1024];
    private string[] _ids = new string[1024];
    private float[] _matrix = new float[1024 * dim];
    private readonly ItemCodes _codes = new(dim);
    private int _count;
    private int[] _changed = [];
    private bool _tracking;
    private volatile AnnView? _ann;

    public string ModelVersion => modelVersion;

    public int Dim => dim;

    /// <summary>Whether rows are scored as unit-length vectors (the model's cosine scoring).</summary>
    public bool Cosine => cosine;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The vectors of the first <see cref="Count"/> rows (as read now).</summary>
    public ReadOnlySpan<float> Matrix
    {
        get
        {
            var count = Count;
            return _matrix.AsSpan(0, count * dim);
        }
    }

    public string IdOf(int row) => _ids[row];

    public bool TryGetRow(string itemId, out int row) => _rows.TryGetValue(itemId, out row);

    public ReadOnlySpan<float> Vector(int row) => _matrix.AsSpan(row * dim, dim);

    /// <summary>The row's vector as it is scored (scaled to unit length for a cosine model), as a new array.</summary>
    public float[] ScoredVector(int row)
    {
        var vector = Vector(row).ToArray();
        var scale = _scale[row];
        for (var d = 0; d < vector.Length; d++)
        {
            vector[d] *= scale;
        }

        return vector;
    }

    /// <summary>
    /// Asks the processor to start loading what <see cref="ScoreRow"/> reads of a row (its vector and scale) without
    /// waiting for it: a caller scoring rows scattered over a large catalogue names a row some rows ahead, so the loads
    /// overlap instead of each missing the cache in turn. Only a hint: a row out of range, or arrays replaced meanwhile,
    /// cost nothing but the hint.
    /// </summary>
    public void Prefetch(int row)
    {
        CacheHints.Prefetch(_matrix, (long)row * dim, dim);
        CacheHints.Prefetch(_scale, row);
    }

    /// <summary>The row's score against <paramref name="session"/>, as <see cref="Score"/> computes it.</summary>
    public float ScoreRow(ReadOnlySpan<float> session, int row) => _scale[row] * VectorMath.Dot(session, Vector(row));

    /// <summary>
    /// The approximate index over these rows, if one is attached, with the rows whose vectors changed since it was
    /// built (rows at or past its <see cref="IApproximateIndex.Rows"/> are new since: scan them exactly too).
    /// </summary>
    public AnnView? Ann => _ann;

    /// <summary>
    /// The approximate index, if one is attached and still describes nearly every row: the rows added or changed since
    /// its build are scored one by one, and past a tenth of it (at least 10,000; a bulk import, until the rebuild) a
    /// full scan is cheaper.
    /// </summary>
    public AnnView? ServingAnn => _ann is { } ann && Count - ann.Index.Rows + ann.Changed.Length <= Math.Max(10_000, ann.Index.Rows / 10) ? ann : null;

    /// <summary>An approximate index and the rows it no longer describes (changed since its build began).</summary>
    public sealed record AnnView(IApproximateIndex Index, int[] Changed)
    {
        /// <summary>
        /// The rows to score exactly for <paramref name="query"/>: the index's (about) <paramref name="count"/> nearest,
        /// the rows it no longer describes, and of the rows past it up to <paramref name="rows"/> (added since its
        /// build), the <paramref name="count"/> nearest by an exact scan of those rows (all of them when that is as many).
        /// </summary>
        /// <param name="vectors">The index these rows are of (the rows past the approximate index are read from it).</param>
        /// <param name="more">Room for the rows the caller adds, so the set is not grown a request at a time.</param>
        public HashSet<int> Candidates(ItemVectorIndex vectors, float[] query, int count, int rows, int more = 0)
        {
            var candidates = new HashSet<int>(count + Changed.Length + Math.Min(Math.Max(0, rows - Index.Rows), count) + more);
            AddCandidates(vectors, query, count, rows, candidates);
            return candidates;
        }

        /// <summary>As <see cref="Candidates"/>, into a set the caller keeps (the ranking stage reuses one per thread).</summary>
        public void AddCandidates(ItemVectorIndex vectors, float[] query, int count, int rows, HashSet<int> candidates)
        {
            var nearest = Index.Candidates(query, count);
            var added = Math.Max(0, rows - Index.Rows);
            candidates.UnionWith(nearest);
            candidates.UnionWith(Changed);
            if (added <= count)
            {
                for (var row = Index.Rows; row < rows; row++)
                {
                    candidates.Add(row);
                }
            }
            else
            {
                // Up to 2% of the catalogue waits outside the index for its next build (20,000 rows at 1M): scanned
                // here in order, a row after another, and only the best of them become candidates — putting every
                // one in the set and scoring it there again cost more than the index saved.
                var scores = System.Buffers.ArrayPool<float>.Shared.Rent(added);
                try
                {
                    for (var i = 0; i < added; i++)
                    {
                        scores[i] = vectors.ScoreRow(query, Index.Rows + i);
                    }

                    foreach (var i in BoundedTopK.HighestPositions(scores.AsSpan(0, added), count))
                    {
                        candidates.Add(Index.Rows + i);
                    }
                }
                finally
                {
                    System.Buffers.ArrayPool<float>.Shared.Return(scores);
                }
            }
        }
    }

    /// <summary>Where an approximate index build begins: the rows it will hold and the changes it will see.</summary>
    public readonly record struct AnnBuild(int Rows, int ChangesSeen);

    /// <summary>Whether an approximate index is due: the index has at least <paramref name="threshold"/> rows and none, or
    /// the rows its index no longer describes passed 2% of it (at least 1,000).</summary>
    public bool NeedsAnn(int threshold)
    {
        var ann = _ann;
        if (Count < threshold)
        {
            return false;
        }

        return ann is null || (Count - ann.Index.Rows) + _changed.Length > Math.Max(1_000, ann.Index.Rows / 50);
    }

    /// <summary>
    /// Whether rows wait outside an attached approximate index (added, or changed since its build) in a number worth a
    /// build once the catalogue is quiet: at least one per thousand rows of the index. <see cref="NeedsAnn"/> waits for 2%,
    /// so an import that ends below that would leave up to 2% of the catalogue scanned on every request for good.
    /// </summary>
    public bool AnnLags()
    {
        var ann = _ann;
        return ann is not null && (Count - ann.Index.Rows) + _changed.Length >= Math.Max(1, ann.Index.Rows / 1_000);
    }

    /// <summary>
    /// Marks where a build begins (call it from the writer, then build off it, then <see cref="AttachAnn"/> or
    /// <see cref="DetachAnn"/>). Changed rows are recorded from here on, and only while an index is built or attached.
    /// </summary>
    public AnnBuild BeginAnn()
    {
        _tracking = true;
        return new(Count, _changed.Length);
    }

    /// <summary>
    /// Serves with <paramref name="ann"/> from now on (from the writer); returns the index it replaces, for the caller
    /// to dispose once requests are done with it.
    /// </summary>
    public IApproximateIndex? AttachAnn(IApproximateIndex ann, AnnBuild build)
    {
        // Rows changed after the build began may have been read old: they stay scanned exactly.
        _changed = _changed[build.ChangesSeen..];
        var previous = _ann;
        _ann = new AnnView(ann, _changed);
        return previous?.Index;
    }

    /// <summary>
    /// Serves with an approximate index read from a snapshot (from the writer, before any change is applied): it
    /// describes the first <see cref="IApproximateIndex.Rows"/> rows but <paramref name="changed"/>, which were changed after
    /// its build when the snapshot was taken. Changes from here on are recorded as for a built one.
    /// </summary>
    public void RestoreAnn(IApproximateIndex ann, int[] changed)
    {
        _tracking = true;
        _changed = changed;
        _ann = new AnnView(ann, _changed);
    }

    /// <summary>
    /// A copy of every row (ids, vectors as set, not scaled) and of the rows the attached approximate index no longer
    /// describes, for a snapshot. From the writer, so no row changes while it is copied.
    /// </summary>
    public (string[] Ids, float[] Vectors, int[] Changed) Copy()
    {
        var count = Count;
        return (_ids[..count], _matrix[..(count * dim)], _ann is null ? [] : [.. _changed]);
    }

    /// <summary>
    /// Detaches the approximate index, or gives up a build (from the writer): every row is scanned again and changes
    /// are no longer recorded. Returns the detached index, for the caller to dispose.
    /// </summary>
    public IApproximateIndex? DetachAnn()
    {
        var previous = _ann;
        _ann = null;
        _changed = [];
        _tracking = false;
        return previous?.Index;
    }

    /// <summary>Sets the vectors [ids.Count, Dim] of these items (new ids are appended). One writer at a time.</summary>
    public void Set(IReadOnlyList<string> ids, ReadOnlySpan<float> vectors)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(vectors.Length, ids.Count * dim);
        List<int>? changed = null;
        for (var i = 0; i < ids.Count; i++)
        {
            var vector = vectors.Slice(i * dim, dim);
            var scale = cosine ? 1f / MathF.Max(MathF.Sqrt(VectorMath.Dot(vector, vector)), 1e-6f) : 1f;
            if (_rows.TryGetValue(ids[i], out var row))
            {
                vector.CopyTo(_matrix.AsSpan(row * dim, dim));
                _scale[row] = scale;
                _codes.Set(row, vector, scale);

                (changed ??= []).Add(row);
                continue;
            }

            row = _count;
            if ((row + 1) * dim > _matrix.Length)
            {
                // A new array: readers holding the old one still find every row they counted.
                _matrix = Grown(_matrix, Math.Max(_matrix.Length * 2, (row + 1) * dim));
            }

            if (row >= _scale.Length)
            {
                _scale = Grown(_scale, Math.Max(_scale.Length * 2, row + 1));
                _ids = Grown(_ids, _scale.Length);
            }

            vector.CopyTo(_matrix.AsSpan(row * dim, dim));
            _scale[row] = scale;
            _codes.Set(row, vector, scale);
            _ids[row] = ids[i];
            _rows[ids[i]] = row;
            Volatile.Write(ref _count, row + 1);
        }

        if (changed is not null && _tracking)
        {
            // The approximate index holds the old vectors: these rows are scanned exactly until the next build.
            _changed = [.. _changed, .. changed];
            if (_ann is { } ann)
            {
                _ann = ann with { Changed = _changed };
            }
        }
    }

    private static T[] Grown<T>(T[] array, int length)
    {
        var grown = new T[length];
        array.CopyTo(grown, 0);
        return grown;
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

    /// <summary>
    /// Dot product of <paramref name="session"/> with the item vectors of the first scores.Length rows (a caller
    /// sizes the buffer from the <see cref="Count"/> it read; rows added since are not scored).
    /// </summary>
    public void Score(ReadOnlySpan<float> session, Span<float> scores)
    {
        var rows = Math.Min(scores.Length, Count);
        VectorMath.DotRows(session[..dim], _matrix, _scale, scores[..rows]);
    }

    /// <summary>
    /// A first pass over the rows of <paramref name="approx"/> (sized as for <see cref="Score"/>) from their int8 codes
    /// (<see cref="ItemCodes"/>, a quarter of the matrix's bytes): approx[r] near what <see cref="Score"/> gives and
    /// bound[r] ≥ the distance to it, for the caller to rescore exactly (<see cref="ScoreRow"/>) only the rows whose
    /// bound reaches its cut. False (nothing written) for a session vector that is all zeros or not finite. A row
    /// replaced while a request reads it may be read with its old codes by that one request, as its vector may.
    /// </summary>
    public bool ScoreBounded(ReadOnlySpan<float> session, Span<float> approx, Span<float> bound) =>
        _codes.Score(session[..dim], approx[..Math.Min(approx.Length, Count)], bound);
}
