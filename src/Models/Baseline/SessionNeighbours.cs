namespace SessionRec.Models.Baseline;

/// <summary>
/// The neighbour pool of the ranking stage's session-kNN term (V-SKNN, Ludewig and Jannach, 2018, bounded): the most
/// recent sessions with their last <see cref="MaxLength"/> distinct items, and per item the sessions that hold it.
/// A query session, weighted by position (linear decay from its most recent item), is compared with the
/// <see cref="Sample"/> most recent sessions sharing an item with it; the <see cref="K"/> most similar vote for their
/// items with their similarity. An item needs <see cref="MinVotes"/> distinct neighbour sessions before it gets a
/// vote. The default, 1, treats a session's items as the co-occurrence and item-kNN terms treat a pair seen once
/// (catalogue item ids, never free text); 2 or more keeps any one other session from putting its items on somebody's
/// screen by itself, at a cost on sparse logs (Diginetica: HR@50 0.105 instead of 0.127 at 2; docs/models.md).
/// <para>
/// Memory is bounded by <see cref="MaxSessions"/> × <see cref="MaxLength"/>: each held session keeps at most that many
/// items (4 B each) and each of them one posting (8 B, pruned lazily to 2 × <see cref="Sample"/> per item) — about
/// 25 MB at the defaults (100,000 sessions of 20 items); the oldest session is dropped when a new one starts.
/// </para>
/// <para>
/// Sessions are numbered as they start; a larger number is more recent. An owner key (the service's user id) is kept
/// per session so that an erasure can drop that user's sessions; <see cref="WriteTo"/> never writes it (the published
/// snapshot names no user) — <see cref="WriteOwners"/> writes it for the builder's own checkpoint.
/// Not thread-safe for writes; a copy read back (<see cref="ReadFrom"/>) is only read, by any number of requests.
/// </para>
/// </summary>
public sealed class SessionNeighbours
{
    public const int DefaultMaxSessions = 100_000;
    public const int DefaultMaxLength = 20;
    public const int DefaultSample = 500;
    public const int DefaultK = 100;
    public const int DefaultMinVotes = 1;

    private const int Format = 1;

    private readonly long[] _numbers;
    private readonly List<int>?[] _items;
    private readonly string?[] _owners;
    private readonly Dictionary<int, List<long>> _postings = [];
    private long _next;

    public SessionNeighbours(int maxSessions = DefaultMaxSessions, int maxLength = DefaultMaxLength, int sample = DefaultSample, int k = DefaultK, int minVotes = DefaultMinVotes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSessions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sample, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minVotes, 1);
        MaxSessions = maxSessions;
        MaxLength = maxLength;
        Sample = sample;
        K = k;
        MinVotes = minVotes;
        _numbers = new long[maxSessions];
        Array.Fill(_numbers, -1);
        _items = new List<int>?[maxSessions];
        _owners = new string?[maxSessions];
    }

    public int MaxSessions { get; }

    public int MaxLength { get; }

    public int Sample { get; }

    public int K { get; }

    public int MinVotes { get; }

    /// <summary>Sessions held now.</summary>
    public int Count { get; private set; }

    /// <summary>Starts a session (dropping the oldest when full); its number, for <see cref="Add"/>.</summary>
    public long Start(string? owner = null)
    {
        var number = _next++;
        var slot = (int)(number % MaxSessions);
        if (_numbers[slot] >= 0)
        {
            Count--; // the oldest session goes; its postings are skipped as stale and pruned later
        }

        _numbers[slot] = number;
        _items[slot] = [];
        _owners[slot] = owner;
        Count++;
        return number;
    }

    /// <summary>Adds an item to a held session (nothing when the session was dropped or already holds it).</summary>
    public void Add(long session, int item)
    {
        if (Items(session) is not { } items || items.Contains(item))
        {
            return;
        }

        items.Add(item);
        if (items.Count > MaxLength)
        {
            items.RemoveAt(0); // its posting turns stale
        }

        if (!_postings.TryGetValue(item, out var postings))
        {
            _postings[item] = postings = [];
        }

        postings.Add(session);
        if (postings.Count > 2 * Sample)
        {
            Prune(item, postings);
        }
    }

    /// <summary>Drops every session of <paramref name="owner"/>; how many there were.</summary>
    public int Forget(string owner)
    {
        var dropped = 0;
        for (var slot = 0; slot < MaxSessions; slot++)
        {
            if (_numbers[slot] >= 0 && string.Equals(_owners[slot], owner, StringComparison.Ordinal))
            {
                _numbers[slot] = -1;
                _items[slot] = null;
                _owners[slot] = null;
                Count--;
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>Whether a held session belongs to <paramref name="owner"/> (erasure's proof).</summary>
    public bool Holds(string owner) => Enumerable.Range(0, MaxSessions).Any(s => _numbers[s] >= 0 && string.Equals(_owners[s], owner, StringComparison.Ordinal));

    /// <summary>
    /// Adds each item's session-kNN score for the query session (<paramref name="query"/> oldest first; its last
    /// <see cref="MaxLength"/> distinct items count), scaled by <paramref name="weight"/>, to its entry in <paramref name="into"/>.
    /// </summary>
    /// <param name="exclude">A session that is not a neighbour (the query's own, offline).</param>
    public void Score(ReadOnlySpan<int> query, Dictionary<int, float> into, float weight = 1, long exclude = -1)
    {
        // The last MaxLength distinct items, weighted as V-SKNN: the most recent 1, the oldest of n 1/n.
        var recent = new List<int>(Math.Min(query.Length, MaxLength));
        for (var p = query.Length - 1; p >= 0 && recent.Count < MaxLength; p--)
        {
            if (!recent.Contains(query[p]))
            {
                recent.Add(query[p]);
            }
        }

        if (recent.Count == 0)
        {
            return;
        }

        var positions = new Dictionary<int, float>(recent.Count);
        for (var i = 0; i < recent.Count; i++)
        {
            positions[recent[i]] = (float)(recent.Count - i) / recent.Count;
        }

        var candidates = new HashSet<long>();
        foreach (var item in positions.Keys)
        {
            if (!_postings.TryGetValue(item, out var postings))
            {
                continue;
            }

            foreach (var session in postings)
            {
                if (session != exclude && Items(session) is { } held && held.Contains(item))
                {
                    candidates.Add(session);
                }
            }
        }

        var neighbours = new List<(long Session, float Similarity)>(Math.Min(candidates.Count, Sample));
        foreach (var session in candidates.Order().TakeLast(Sample))
        {
            var held = Items(session)!;
            float dot = 0;
            foreach (var item in held)
            {
                dot += positions.GetValueOrDefault(item);
            }

            neighbours.Add((session, dot / MathF.Sqrt(positions.Count * (float)held.Count)));
        }

        var votes = new Dictionary<int, (float Score, int Sessions)>();
        foreach (var (session, similarity) in neighbours.OrderByDescending(n => n.Similarity).ThenBy(n => n.Session).Take(K))
        {
            foreach (var item in Items(session)!)
            {
                var (score, sessions) = votes.GetValueOrDefault(item);
                votes[item] = (score + similarity, sessions + 1);
            }
        }

        foreach (var (item, (score, sessions)) in votes)
        {
            if (sessions >= MinVotes)
            {
                into[item] = into.GetValueOrDefault(item) + (weight * score);
            }
        }
    }

    /// <summary>The held sessions (items only, no owners): the published snapshot's part.</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Format);
        writer.Write(MaxSessions);
        writer.Write(MaxLength);
        writer.Write(Sample);
        writer.Write(K);
        writer.Write(MinVotes);
        writer.Write(_next);
        writer.Write(Count);
        foreach (var slot in HeldSlotsByNumber())
        {
            writer.Write(_numbers[slot]);
            var items = _items[slot]!;
            writer.Write(items.Count);
            foreach (var item in items)
            {
                writer.Write(item);
            }
        }
    }

    /// <summary>The owner of each held session, for the builder's checkpoint (<see cref="ReadOwners"/>).</summary>
    public void WriteOwners(BinaryWriter writer)
    {
        var owned = HeldSlotsByNumber().Where(s => _owners[s] is not null).ToList();
        writer.Write(owned.Count);
        foreach (var slot in owned)
        {
            writer.Write(_numbers[slot]);
            writer.Write(_owners[slot]!);
        }
    }

    /// <summary>Restores the owners <see cref="WriteOwners"/> wrote (of sessions still held).</summary>
    public void ReadOwners(BinaryReader reader)
    {
        foreach (var (number, owner) in ReadOwnerEntries(reader))
        {
            var slot = (int)(number % MaxSessions);
            if (_numbers[slot] == number)
            {
                _owners[slot] = owner;
            }
        }
    }

    /// <summary>The owners a <see cref="WriteOwners"/> part names (a scan of the stored checkpoint, for erasure's proof).</summary>
    public static IEnumerable<string> ReadOwnerNames(BinaryReader reader) => ReadOwnerEntries(reader).Select(e => e.Owner);

    private static List<(long Number, string Owner)> ReadOwnerEntries(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        var entries = new List<(long, string)>(count);
        for (var i = 0; i < count; i++)
        {
            entries.Add((reader.ReadInt64(), reader.ReadString()));
        }

        return entries;
    }

    public static SessionNeighbours ReadFrom(BinaryReader reader)
    {
        var format = reader.ReadInt32();
        if (format != Format)
        {
            throw new InvalidDataException($"Session-neighbours format {format}; this build reads {Format}.");
        }

        var index = new SessionNeighbours(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        var next = reader.ReadInt64();
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var number = reader.ReadInt64();
            var slot = (int)(number % index.MaxSessions);
            index._numbers[slot] = number;
            var items = index._items[slot] = new List<int>(reader.ReadInt32());
            for (var n = items.Capacity; n > 0; n--)
            {
                var item = reader.ReadInt32();
                items.Add(item);
                if (!index._postings.TryGetValue(item, out var postings))
                {
                    index._postings[item] = postings = [];
                }

                postings.Add(number);
            }

            index.Count++;
        }

        index._next = next;
        foreach (var (item, postings) in index._postings)
        {
            if (postings.Count > index.Sample)
            {
                index.Prune(item, postings);
            }
        }

        return index;
    }

    private List<int>? Items(long session) =>
        session >= 0 && _numbers[(int)(session % MaxSessions)] == session ? _items[(int)(session % MaxSessions)] : null;

    private IEnumerable<int> HeldSlotsByNumber() =>
        Enumerable.Range(0, MaxSessions).Where(s => _numbers[s] >= 0).OrderBy(s => _numbers[s]);

    /// <summary>Keeps the item's <see cref="Sample"/> most recent live postings (a stale one: its session was dropped or dropped the item).</summary>
    private void Prune(int item, List<long> postings)
    {
        var kept = postings.Where(s => Items(s) is { } held && held.Contains(item)).Distinct().Order().TakeLast(Sample).ToList();
        postings.Clear();
        postings.AddRange(kept);
    }
}
