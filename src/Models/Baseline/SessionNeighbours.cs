namespace SessionRec.Models.Baseline;

using System.Runtime.InteropServices;

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
/// 25 MB at the defaults (100,000 sessions of 20 items); the oldest session is dropped when a new one starts. A copy
/// read back (a replica's) holds the same in four arrays (plus 4 B per session slot and per item).
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

    // Set by ReadFrom (a replica's copy), gone at the first write (a builder resuming from a snapshot): the sessions'
    // items and the posting lists packed in a few arrays instead of a list each (100,000 sessions: ~25 MB of small
    // objects that every young collection had to promote), every posting list in ascending session order, without
    // duplicates, naming only held sessions that hold its item — what Score's fast path relies on.
    private Packed? _packed;

    /// <summary>How many sessions ahead <see cref="ScoreFrozen"/> asks for a session's memory.</summary>
    private const int PrefetchAhead = 8;

    [ThreadStatic]
    private static Scratch? t_scratch;

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
        Unpack();
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
        Unpack();
        if (Held(session) is not { } items || items.Contains(item))
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
        Unpack();
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

    /// <summary>
    /// The items (oldest first) of up to <paramref name="count"/> of the most recent held sessions with at least
    /// <paramref name="minLength"/> items, newest first: real queries for checking an approximate index.
    /// </summary>
    public List<int[]> Recent(int count, int minLength)
    {
        var found = new List<int[]>(Math.Max(0, count));
        for (var number = _next - 1; number >= 0 && number >= _next - MaxSessions && found.Count < count; number--)
        {
            var items = ItemsOf(number);
            if (items.Length >= minLength)
            {
                found.Add(items.ToArray());
            }
        }

        return found;
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
        var sink = new DictionaryVotes(into);
        Score(query, ref sink, weight, exclude);
    }

    /// <summary>Where <see cref="Score{TVotes}"/> hands each item's weighted vote: once per item, in first-vote order.</summary>
    public interface IVotes
    {
        void Add(int item, float vote);

        /// <summary>A hint that <see cref="Add"/> of this item comes soon (a sink mapping items through a large table asks for its entry).</summary>
        void Prefetch(int item);
    }

    /// <summary>
    /// <see cref="Score(ReadOnlySpan{int}, Dictionary{int, float}, float, long)"/> handing each item's weighted vote to
    /// <paramref name="into"/> instead of a dictionary, in the order that dictionary would enumerate them: the ranking
    /// stage maps items to its own rows without a per-request dictionary of a few thousand votes.
    /// </summary>
    public void Score<TVotes>(ReadOnlySpan<int> query, ref TVotes into, float weight = 1, long exclude = -1)
        where TVotes : struct, IVotes
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

        // A session's weight summed from the lists it is found in is complete only when nothing is excluded: a
        // candidate can then hold no query item whose list was pruned past it (each of those lists names Sample
        // more recent sessions). Replicas never exclude; offline evaluation does, on the builder's own pool.
        if (_packed is not null && exclude < 0)
        {
            ScoreFrozen(recent, ref into, weight);
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
            foreach (var session in PostingsOf(item))
            {
                if (session != exclude && ItemsOf(session).Contains(item))
                {
                    candidates.Add(session);
                }
            }
        }

        var neighbours = new List<(long Session, float Similarity)>(Math.Min(candidates.Count, Sample));
        foreach (var session in candidates.Order().TakeLast(Sample))
        {
            // The shared items' weights summed in the query's order, most recent first (the fast path sums in
            // this order too, so both give the same floats).
            var held = ItemsOf(session);
            float dot = 0;
            foreach (var item in recent)
            {
                if (held.Contains(item))
                {
                    dot += positions[item];
                }
            }

            neighbours.Add((session, dot / MathF.Sqrt(positions.Count * (float)held.Length)));
        }

        var votes = new Dictionary<int, (float Score, int Sessions)>();
        foreach (var (session, similarity) in neighbours.OrderByDescending(n => n.Similarity).ThenBy(n => n.Session).Take(K))
        {
            foreach (var item in ItemsOf(session))
            {
                var (score, sessions) = votes.GetValueOrDefault(item);
                votes[item] = (score + similarity, sessions + 1);
            }
        }

        foreach (var (item, (score, sessions)) in votes)
        {
            if (sessions >= MinVotes)
            {
                into.Add(item, weight * score);
            }
        }
    }

    /// <summary>Votes added to a dictionary's entries (what <see cref="Score(ReadOnlySpan{int}, Dictionary{int, float}, float, long)"/> returns).</summary>
    private readonly struct DictionaryVotes(Dictionary<int, float> into) : IVotes
    {
        public void Add(int item, float vote) => into[item] = into.GetValueOrDefault(item) + vote;

        public void Prefetch(int item)
        {
        }
    }

    /// <summary>
    /// <see cref="Score"/> on a copy read back (every request of a replica runs this): the same neighbours, votes and
    /// float sums in the same order, without its per-request sets, sorts and dictionaries. The candidates are the
    /// <see cref="Sample"/> most recent sessions of a merge of the sorted posting lists, read from their ends, each
    /// session's similarity summed from the lists it was found in; votes go through a small per-thread table
    /// (bounded by <see cref="MaxLength"/> × <see cref="K"/> entries, not by the catalogue).
    /// </summary>
    private void ScoreFrozen<TVotes>(List<int> recent, ref TVotes into, float weight)
        where TVotes : struct, IVotes
    {
        var scratch = t_scratch ??= new Scratch();
        var votes = scratch.Votes;
        var packed = _packed!;
        try
        {
            // A max-heap of the lists' last unread postings (the highest session first; between lists at the same
            // session, the more recent query item first, so a session's weights add up in the query's order).
            var heap = scratch.Heap;
            heap.Clear(packed.Postings);
            var weights = scratch.Weights;
            weights.Clear();
            for (var i = 0; i < recent.Count; i++)
            {
                var (start, count) = packed.PostingRange(recent[i]);
                if (count > 0)
                {
                    weights.Add((float)(recent.Count - i) / recent.Count);
                    heap.Push(start, count, weights.Count - 1);
                }
            }

            // The Sample highest session numbers over all lists, each once; each session's similarity from the
            // query items whose lists hold it.
            var neighbours = scratch.Neighbours;
            neighbours.Clear();
            while (neighbours.Count < Sample && heap.Count > 0)
            {
                var best = heap.Top;
                float dot = 0;
                while (heap.Count > 0 && heap.Top == best)
                {
                    dot += weights[heap.TopList];
                    heap.Advance();
                }

                neighbours.Add((best, dot)); // the dot product for now: divided by the lengths below
            }

            // Each found session's length is a read anywhere in the pool's slots (hundreds of them a request, most
            // missing the cache): read in a pass of their own, each asked for some sessions ahead.
            var found = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(neighbours);
            for (var i = 0; i < found.Length; i++)
            {
                if (i + PrefetchAhead < found.Length)
                {
                    packed.PrefetchLength((int)(found[i + PrefetchAhead].Session % MaxSessions));
                }

                var (session, dot) = found[i];
                found[i].Similarity = dot / MathF.Sqrt(recent.Count * (float)packed.Length((int)(session % MaxSessions)));
            }

            if (scratch.Keys.Length < found.Length)
            {
                scratch.Keys = new ulong[found.Length];
            }

            var keys = scratch.Keys.AsSpan(0, found.Length);
            for (var i = 0; i < found.Length; i++)
            {
                keys[i] = MostSimilarFirst.Key(found[i].Similarity, i);
            }

            var chosen = MostSimilarFirst.Select(keys, K);
            for (var c = 0; c < chosen.Length; c++)
            {
                if (c + PrefetchAhead < chosen.Length)
                {
                    packed.PrefetchItems((int)(found[MostSimilarFirst.Found(chosen[c + PrefetchAhead])].Session % MaxSessions));
                }

                var (session, similarity) = found[MostSimilarFirst.Found(chosen[c])];
                foreach (var item in packed.Items((int)(session % MaxSessions)))
                {
                    votes.Add(item, similarity);
                }
            }

            for (var e = 0; e < votes.Count; e++)
            {
                if (e + PrefetchAhead < votes.Count)
                {
                    into.Prefetch(votes.Entry(e + PrefetchAhead).Item);
                }

                var (item, score, sessions) = votes.Entry(e);
                if (sessions >= MinVotes)
                {
                    into.Add(item, weight * score);
                }
            }
        }
        finally
        {
            votes.Clear();
        }
    }

    /// <summary>
    /// The order of <see cref="Score"/>'s neighbours — the most similar first; between equals, the older session — as
    /// one integer key per neighbour: the similarity's bits (a positive float orders as its bits do) above the order it
    /// was found in (the merge finds sessions newest first, so at equal similarity the later-found one, the older
    /// session, has the higher key). Compared as integers, not through a comparer of tuples: the selection and sort of
    /// the <see cref="K"/> best were half of the session-kNN term's time with one.
    /// </summary>
    private static class MostSimilarFirst
    {
        public static ulong Key(float similarity, int found) => ((ulong)BitConverter.SingleToUInt32Bits(similarity) << 32) | (uint)found;

        /// <summary>The position in the merge's order of the neighbour a key was made for.</summary>
        public static int Found(ulong key) => (int)(uint)key;

        /// <summary>
        /// The <paramref name="k"/> highest keys, highest first, moved to the front of <paramref name="keys"/>: a heap of
        /// the k best so far (the lowest at its root) over all keys, then a sort of those k.
        /// </summary>
        public static Span<ulong> Select(Span<ulong> keys, int k)
        {
            if (k <= 0)
            {
                return [];
            }

            if (keys.Length > k)
            {
                var heap = keys[..k];
                for (var i = (k / 2) - 1; i >= 0; i--)
                {
                    SiftDown(heap, i);
                }

                for (var i = k; i < keys.Length; i++)
                {
                    if (keys[i] > heap[0])
                    {
                        heap[0] = keys[i];
                        SiftDown(heap, 0);
                    }
                }

                keys = heap;
            }

            keys.Sort();
            keys.Reverse();
            return keys;
        }

        /// <summary>Moves the key at <paramref name="at"/> down to where no child of it is lower.</summary>
        private static void SiftDown(Span<ulong> heap, int at)
        {
            var moving = heap[at];
            while (true)
            {
                var child = (2 * at) + 1;
                if (child >= heap.Length)
                {
                    break;
                }

                if (child + 1 < heap.Length && heap[child + 1] < heap[child])
                {
                    child++;
                }

                if (moving <= heap[child])
                {
                    break;
                }

                heap[at] = heap[child];
                at = child;
            }

            heap[at] = moving;
        }
    }

    /// <summary>One thread's buffers for <see cref="ScoreFrozen"/>, kept between calls.</summary>
    private sealed class Scratch
    {
        public readonly ItemTable Votes = new(4096);
        public readonly PostingHeap Heap = new();
        public readonly List<float> Weights = [];
        public readonly List<(long Session, float Similarity)> Neighbours = [];
        public ulong[] Keys = [];
    }

    /// <summary>
    /// Posting lists (ranges of one ascending-by-range array) read from their ends, as a max-heap of each list's last
    /// unread session: ties between lists go to the one pushed first. Each list's state is one entry moved whole
    /// (no object reference in it: moving one writes no GC card, where the five parallel arrays it replaced — one of
    /// array references — were swapped element by element at every level).
    /// </summary>
    private sealed class PostingHeap
    {
        private Entry[] _entries = new Entry[DefaultMaxLength];
        private long[] _postings = [];

        public int Count { get; private set; }

        /// <summary>The highest unread session.</summary>
        public long Top => _entries[0].Head;

        /// <summary>The id (the order it was pushed in) of the list <see cref="Top"/> came from.</summary>
        public int TopList => _entries[0].Id;

        /// <summary>Empties the heap; the lists pushed next are ranges of <paramref name="postings"/>.</summary>
        public void Clear(long[] postings)
        {
            _postings = postings;
            Count = 0;
        }

        /// <summary>Adds the list postings[<paramref name="start"/>, + <paramref name="count"/>) (count ≥ 1).</summary>
        public void Push(int start, int count, int id)
        {
            if (Count == _entries.Length)
            {
                Array.Resize(ref _entries, Count * 2);
            }

            var next = start + count - 1;
            var moving = new Entry(_postings[next], next, start, id);
            var entries = _entries;
            var at = Count++;
            while (at > 0 && Before(moving, entries[(at - 1) >> 1]))
            {
                entries[at] = entries[(at - 1) >> 1];
                at = (at - 1) >> 1;
            }

            entries[at] = moving;
        }

        /// <summary>Moves the top list to its next unread session (or drops it when it has none).</summary>
        public void Advance()
        {
            var entries = _entries;
            var moving = entries[0];
            if (moving.Next > moving.Start)
            {
                moving = moving with { Next = moving.Next - 1, Head = _postings[moving.Next - 1] };
            }
            else
            {
                moving = entries[--Count];
            }

            // The hole at the root goes down to where the moving entry belongs.
            var count = Count;
            var at = 0;
            while (true)
            {
                var child = (2 * at) + 1;
                if (child >= count)
                {
                    break;
                }

                if (child + 1 < count && Before(entries[child + 1], entries[child]))
                {
                    child++;
                }

                if (Before(moving, entries[child]))
                {
                    break;
                }

                entries[at] = entries[child];
                at = child;
            }

            if (count > 0)
            {
                entries[at] = moving;
            }
        }

        /// <summary>Whether a comes out before b: a higher session, or the same one from an earlier list.</summary>
        private static bool Before(in Entry a, in Entry b) => a.Head > b.Head || (a.Head == b.Head && a.Id < b.Id);

        /// <summary>A list's last unread session, its position, where it starts, and the order it was pushed in.</summary>
        private readonly record struct Entry(long Head, int Next, int Start, int Id);
    }

    /// <summary>
    /// Item → (sum, how many adds), open addressing over non-negative item numbers, entries kept in first-add order
    /// (as a Dictionary enumerates them). It grows when half full; <see cref="Clear"/> resets only what was used.
    /// </summary>
    private sealed class ItemTable(int capacity)
    {
        private int[] _keys = Filled(capacity);
        private float[] _sums = new float[capacity];
        private int[] _adds = new int[capacity];
        private int[] _order = new int[capacity];

        public int Count { get; private set; }

        public void Add(int item, float value)
        {
            if (2 * (Count + 1) > _keys.Length)
            {
                Grow();
            }

            var slot = Find(_keys, item);
            if (_keys[slot] < 0)
            {
                _keys[slot] = item;
                _order[Count++] = slot;
            }

            _sums[slot] += value;
            _adds[slot]++;
        }

        public (int Item, float Sum, int Adds) Entry(int index)
        {
            var slot = _order[index];
            return (_keys[slot], _sums[slot], _adds[slot]);
        }

        public void Clear()
        {
            for (var e = 0; e < Count; e++)
            {
                var slot = _order[e];
                _keys[slot] = -1;
                _sums[slot] = 0;
                _adds[slot] = 0;
            }

            Count = 0;
        }

        private static int[] Filled(int capacity)
        {
            var keys = new int[capacity];
            Array.Fill(keys, -1);
            return keys;
        }

        private static int Find(int[] keys, int item)
        {
            // Fibonacci hashing: the product's top bits pick the slot (capacities are powers of two).
            var mask = keys.Length - 1;
            var slot = (int)(((uint)item * 2654435769u) >> (32 - System.Numerics.BitOperations.Log2((uint)keys.Length)));
            while (keys[slot] >= 0 && keys[slot] != item)
            {
                slot = (slot + 1) & mask;
            }

            return slot;
        }

        private void Grow()
        {
            var keys = Filled(_keys.Length * 2);
            var sums = new float[keys.Length];
            var adds = new int[keys.Length];
            var order = new int[keys.Length];
            for (var e = 0; e < Count; e++)
            {
                var old = _order[e];
                var slot = Find(keys, _keys[old]);
                keys[slot] = _keys[old];
                sums[slot] = _sums[old];
                adds[slot] = _adds[old];
                order[e] = slot;
            }

            (_keys, _sums, _adds, _order) = (keys, sums, adds, order);
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
            var items = ItemsOf(_numbers[slot]);
            writer.Write(items.Length);
            writer.Write(MemoryMarshal.AsBytes(items)); // little-endian, as ReadFrom reads them
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

        // Sessions come in ascending order, each holding its items once: read them as they come, then lay out each
        // slot's items and each item's most recent Sample sessions (every list sorted, distinct and live).
        var slots = new int[count];
        var lengths = new int[index.MaxSessions + 1];
        var read = new List<int>();
        var items = 0;
        for (var i = 0; i < count; i++)
        {
            var number = reader.ReadInt64();
            var slot = (int)(number % index.MaxSessions);
            var length = reader.ReadInt32();
            if (number < 0 || index._numbers[slot] >= 0 || length < 0)
            {
                throw new InvalidDataException($"Session-neighbours: session {number} of {length} items does not fit the pool.");
            }

            index._numbers[slot] = number;
            slots[i] = slot;
            lengths[slot + 1] = length;
            for (var n = 0; n < length; n++)
            {
                var item = reader.ReadInt32();
                if (item < 0)
                {
                    throw new InvalidDataException($"Session-neighbours: item {item}.");
                }

                read.Add(item);
                items = Math.Max(items, item + 1);
            }
        }

        index.Count = count;
        index._next = next;
        index._packed = Packed.Build(index, slots, lengths, CollectionsMarshal.AsSpan(read), items);
        return index;
    }

    /// <summary>The held session's items (empty when it is not held), packed or not.</summary>
    private ReadOnlySpan<int> ItemsOf(long session)
    {
        var slot = (int)(session % MaxSessions);
        if (session < 0 || _numbers[slot] != session)
        {
            return default;
        }

        return _packed is { } packed ? packed.Items(slot) : CollectionsMarshal.AsSpan(_items[slot]);
    }

    /// <summary>The sessions an item's posting list names (some may be stale unless packed).</summary>
    private ReadOnlySpan<long> PostingsOf(int item)
    {
        if (_packed is { } packed)
        {
            var (start, count) = packed.PostingRange(item);
            return packed.Postings.AsSpan(start, count);
        }

        return _postings.TryGetValue(item, out var postings) ? CollectionsMarshal.AsSpan(postings) : default;
    }

    /// <summary>A held session's growing list, for writes (after <see cref="Unpack"/>).</summary>
    private List<int>? Held(long session) =>
        session >= 0 && _numbers[(int)(session % MaxSessions)] == session ? _items[(int)(session % MaxSessions)] : null;

    /// <summary>Before the first write to a copy read back, its packed sessions and lists become growing ones.</summary>
    private void Unpack()
    {
        if (_packed is not { } packed)
        {
            return;
        }

        for (var slot = 0; slot < MaxSessions; slot++)
        {
            if (_numbers[slot] >= 0)
            {
                var held = new List<int>(packed.Length(slot));
                held.AddRange(packed.Items(slot));
                _items[slot] = held;
            }
        }

        for (var item = 0; item < packed.ItemCount; item++)
        {
            var (start, count) = packed.PostingRange(item);
            if (count > 0)
            {
                var postings = new List<long>(count);
                postings.AddRange(packed.Postings.AsSpan(start, count));
                _postings[item] = postings;
            }
        }

        _packed = null;
    }

    /// <summary>
    /// A copy's sessions and posting lists in four arrays: slot s holds SlotItems[SlotStarts[s], SlotStarts[s + 1]),
    /// item i's sessions are Postings[PostingStarts[i], PostingStarts[i + 1]), ascending.
    /// </summary>
    private sealed class Packed(int[] slotStarts, int[] slotItems, int[] postingStarts, long[] postings)
    {
        public long[] Postings => postings;

        public int ItemCount => postingStarts.Length - 1;

        public ReadOnlySpan<int> Items(int slot) => slotItems.AsSpan(slotStarts[slot], slotStarts[slot + 1] - slotStarts[slot]);

        public int Length(int slot) => slotStarts[slot + 1] - slotStarts[slot];

        /// <summary>Hints that <see cref="Length"/> of the slot will be read soon.</summary>
        public void PrefetchLength(int slot) => CacheHints.Prefetch(slotStarts, slot, 2);

        /// <summary>Hints that <see cref="Items"/> of the slot will be read soon (its start must be in the cache already).</summary>
        public void PrefetchItems(int slot) => CacheHints.Prefetch(slotItems, slotStarts[slot], Length(slot));

        public (int Start, int Count) PostingRange(int item) =>
            (uint)item < (uint)ItemCount ? (postingStarts[item], postingStarts[item + 1] - postingStarts[item]) : (0, 0);

        /// <param name="slots">The sessions' slots in the order they were read (ascending session number).</param>
        /// <param name="lengths">Each slot's item count at [slot + 1] (made the slots' starts here).</param>
        /// <param name="read">Every session's items in the order they were read.</param>
        /// <param name="items">One more than the highest item.</param>
        public static Packed Build(SessionNeighbours pool, int[] slots, int[] lengths, ReadOnlySpan<int> read, int items)
        {
            var slotStarts = lengths;
            for (var s = 1; s < slotStarts.Length; s++)
            {
                slotStarts[s] += slotStarts[s - 1];
            }

            // Each item keeps its Sample most recent sessions: the last ones read.
            var totals = new int[items];
            foreach (var item in read)
            {
                totals[item]++;
            }

            var postingStarts = new int[items + 1];
            for (var i = 0; i < items; i++)
            {
                postingStarts[i + 1] = postingStarts[i] + Math.Min(totals[i], pool.Sample);
            }

            var slotItems = new int[read.Length];
            var postings = new long[postingStarts[items]];
            var cursor = postingStarts[..items];
            var at = 0;
            foreach (var slot in slots)
            {
                var number = pool._numbers[slot];
                var own = read.Slice(at, slotStarts[slot + 1] - slotStarts[slot]);
                own.CopyTo(slotItems.AsSpan(slotStarts[slot]));
                at += own.Length;
                foreach (var item in own)
                {
                    // Skip the item's oldest sessions beyond Sample; the rest are written in ascending order.
                    if (totals[item]-- <= pool.Sample)
                    {
                        postings[cursor[item]++] = number;
                    }
                }
            }

            return new Packed(slotStarts, slotItems, postingStarts, postings);
        }
    }

    private IEnumerable<int> HeldSlotsByNumber() =>
        Enumerable.Range(0, MaxSessions).Where(s => _numbers[s] >= 0).OrderBy(s => _numbers[s]);

    /// <summary>Keeps the item's <see cref="Sample"/> most recent live postings (a stale one: its session was dropped or dropped the item).</summary>
    private void Prune(int item, List<long> postings)
    {
        var kept = postings.Where(s => Held(s) is { } held && held.Contains(item)).Distinct().Order().TakeLast(Sample).ToList();
        postings.Clear();
        postings.AddRange(kept);
    }
}
