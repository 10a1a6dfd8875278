namespace SessionRec.Silo.Statistics;

using SessionRec.EventContract;

/// <summary>
/// Each user's live session as the click log tells it (<see cref="SessionRule"/>, as the session grain splits them) — with its last few distinct items, which new interactions are
/// linked to. Bounded: past <paramref name="maxTracked"/> users, sessions idle longer than the timeout (which could
/// not be continued anyway) are dropped.
/// </summary>
public sealed class LiveSessions(TimeSpan inactivity, int memory, int maxTracked)
{
    private const int Format = 2;

    private readonly Dictionary<string, Session> _byUser = new(StringComparer.Ordinal);
    private DateTimeOffset _latest = DateTimeOffset.MinValue;

    public int Count => _byUser.Count;

    /// <summary>The items of the user's live session before an interaction at <paramref name="at"/> (oldest first).</summary>
    public Session For(string userId, string? sessionId, string eventId, DateTimeOffset at)
    {
        if (!_byUser.TryGetValue(userId, out var session)
            || SessionRule.StartsNew(at, sessionId, session.LastAt, session.SessionId, inactivity))
        {
            session = new Session(SessionRule.IdOf(sessionId, eventId), memory);
            _byUser[userId] = session;
        }

        return session;
    }

    /// <summary>Records the interaction in the session and keeps the number of tracked users bounded.</summary>
    public void Add(Session session, string itemId, DateTimeOffset at)
    {
        session.Add(itemId, at);
        if (at > _latest)
        {
            _latest = at;
        }

        if (_byUser.Count > maxTracked)
        {
            var cutoff = _latest - inactivity;
            foreach (var (user, live) in _byUser)
            {
                if (live.LastAt < cutoff)
                {
                    _byUser.Remove(user);
                }
            }
        }
    }

    public bool Forget(string userId) => _byUser.Remove(userId);

    public bool Holds(string userId) => _byUser.ContainsKey(userId);

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Format);
        writer.Write(_latest.UtcTicks);
        writer.Write(_byUser.Count);
        foreach (var (user, session) in _byUser)
        {
            writer.Write(user);
            writer.Write(session.SessionId ?? string.Empty);
            writer.Write(session.LastAt.UtcTicks);
            writer.Write(session.Number);
            writer.Write(session.Items.Count);
            foreach (var item in session.Items)
            {
                writer.Write(item);
            }
        }
    }

    public void ReadFrom(BinaryReader reader)
    {
        var format = reader.ReadInt32();
        if (format is not (Format or 1))
        {
            throw new InvalidDataException("Unknown live-sessions checkpoint format.");
        }

        _byUser.Clear();
        _latest = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var user = reader.ReadString();
            var id = reader.ReadString();
            var session = new Session(id.Length == 0 ? null : id, memory);
            var lastAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            session.Number = format == 1 ? -1 : reader.ReadInt64();
            var items = reader.ReadInt32();
            for (var n = 0; n < items; n++)
            {
                session.Add(reader.ReadString(), lastAt);
            }

            _byUser[user] = session;
        }
    }

    public sealed class Session(string? sessionId, int memory)
    {
        public string? SessionId { get; } = sessionId;

        public List<string> Items { get; } = new(memory + 1);

        public DateTimeOffset LastAt { get; private set; } = DateTimeOffset.MinValue;

        /// <summary>The session's number in the statistics' neighbour pool (-1: not started there yet).</summary>
        public long Number { get; set; } = -1;

        public void Add(string itemId, DateTimeOffset at)
        {
            Items.Remove(itemId);
            Items.Add(itemId);
            if (Items.Count > memory)
            {
                Items.RemoveAt(0);
            }

            if (at > LastAt)
            {
                LastAt = at;
            }
        }
    }
}
