namespace SessionRec.Analytics.Aggregates;

using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;

/// <summary>
/// The sessions of a live click log that may still change, assembled record by record in log order (one
/// <see cref="UserSessionAssembler"/> per user). A session is closed — handed out by <see cref="TakeClosed"/> to be
/// added to the aggregates for good — once the log's clock (the newest record time seen, not the wall clock, so a
/// replay of an old log splits sessions as the live log did) is more than the inactivity timeout plus
/// <paramref name="grace"/> past its last record: by then no record can continue it, and feedback naming its lists
/// has had the grace to arrive. A session of <paramref name="maxRecordsPerSession"/> records is closed at once.
/// Memory is bounded by the users active within the timeout plus grace of log time; past
/// <paramref name="maxUsers"/>, sessions idle longer than the timeout are closed without the grace.
/// </summary>
public sealed class OpenSessions(TimeSpan inactivity, TimeSpan grace, int maxUsers = 200_000, int maxRecordsPerSession = 10_000)
{
    private const int Format = 1;

    private readonly Dictionary<string, UserSessionAssembler> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<LoggedSession, SessionDigest> _digests = new(ReferenceEqualityComparer.Instance);
    private readonly List<LoggedSession> _full = [];

    /// <summary>The newest record time seen.</summary>
    public DateTimeOffset Clock { get; private set; } = DateTimeOffset.MinValue;

    public int Users => _users.Count;

    public int Sessions => _users.Values.Sum(u => u.Sessions.Count);

    public void Add(LogEvent record)
    {
        if (!_users.TryGetValue(record.UserId, out var user))
        {
            user = new UserSessionAssembler(record.UserId, inactivity);
            _users[record.UserId] = user;
        }

        var session = user.Add(record);
        _digests.Remove(session);
        if (record.Timestamp > Clock)
        {
            Clock = record.Timestamp;
        }

        if (session.Records.Count >= maxRecordsPerSession)
        {
            user.Release(session);
            _full.Add(session);
        }
    }

    /// <summary>Removes and returns the sessions the clock has closed (and any that reached the size bound).</summary>
    public List<LoggedSession> TakeClosed()
    {
        var closed = new List<LoggedSession>(_full);
        _full.Clear();
        if (_users.Count == 0)
        {
            return closed;
        }

        Close(Clock - inactivity - grace, closed);
        if (_users.Count > maxUsers)
        {
            Close(Clock - inactivity, closed);
        }

        return closed;
    }

    private void Close(DateTimeOffset before, List<LoggedSession> closed)
    {
        List<string>? emptied = null;
        foreach (var (userId, user) in _users)
        {
            for (var i = 0; i < user.Sessions.Count;)
            {
                var session = user.Sessions[i];
                if (session.End < before)
                {
                    user.Release(session);
                    _digests.Remove(session);
                    closed.Add(session);
                }
                else
                {
                    i++;
                }
            }

            if (user.Sessions.Count == 0)
            {
                (emptied ??= []).Add(userId);
            }
        }

        foreach (var userId in emptied ?? [])
        {
            _users.Remove(userId);
        }
    }

    /// <summary>Every open session scored as it stands (scores are kept until the session changes).</summary>
    public List<SessionDigest> Digests(IReadOnlyList<NamedMetric> metrics)
    {
        var digests = new List<SessionDigest>();
        foreach (var user in _users.Values)
        {
            foreach (var session in user.Sessions)
            {
                if (!_digests.TryGetValue(session, out var digest))
                {
                    digest = SessionDigest.Of(session, metrics);
                    _digests[session] = digest;
                }

                digests.Add(digest);
            }
        }

        return digests;
    }

    /// <summary>Drops the user's open sessions; true when there were any.</summary>
    public bool Forget(string userId)
    {
        _full.RemoveAll(s => string.Equals(s.UserId, userId, StringComparison.Ordinal));
        if (!_users.Remove(userId, out var user))
        {
            return false;
        }

        foreach (var session in user.Sessions)
        {
            _digests.Remove(session);
        }

        return true;
    }

    public bool Holds(string userId) =>
        _users.ContainsKey(userId) || _full.Any(s => string.Equals(s.UserId, userId, StringComparison.Ordinal));

    /// <summary>Writes each user's open records (a reader replays them into the same sessions).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Format);
        writer.Write(Clock.UtcTicks);
        var users = _users.Values.ToList();
        var pending = _full.GroupBy(s => s.UserId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        writer.Write(users.Count + pending.Keys.Count(k => !_users.ContainsKey(k)));
        foreach (var user in users)
        {
            WriteUser(writer, user.UserId, pending.Remove(user.UserId, out var full) ? [.. full, .. user.Sessions] : user.Sessions);
        }

        foreach (var (userId, full) in pending)
        {
            WriteUser(writer, userId, full);
        }
    }

    private static void WriteUser(BinaryWriter writer, string userId, IReadOnlyList<LoggedSession> sessions)
    {
        writer.Write(userId);
        writer.Write(sessions.Sum(s => s.Records.Count));
        foreach (var record in sessions.SelectMany(s => s.Records))
        {
            LogEventCodec.Write(writer, record);
        }
    }

    public void ReadFrom(BinaryReader reader)
    {
        if (reader.ReadInt32() != Format)
        {
            throw new InvalidDataException("Unknown open-sessions checkpoint format.");
        }

        _users.Clear();
        _digests.Clear();
        _full.Clear();
        var clock = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var users = reader.ReadInt32();
        for (var u = 0; u < users; u++)
        {
            var userId = reader.ReadString();
            var records = reader.ReadInt32();
            for (var r = 0; r < records; r++)
            {
                Add(LogEventCodec.Read(reader, userId));
            }
        }

        Clock = clock;
    }
}
