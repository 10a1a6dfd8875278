namespace SessionRec.Analytics.Aggregates;

using SessionRec.Analytics.Metrics;
using SessionRec.Analytics.Sessions;

/// <summary>
/// A session's numbers for one surface and model version (the lists that model served on that surface): what
/// <see cref="SessionAnalytics.Score"/> computes, for every metric of the catalogue at once. The request-level
/// HR@10 and MRR are kept as sums over the lists, so that aggregates weigh them per request.
/// </summary>
public sealed record SliceDigest(
    string Surface, string ModelVersion, int Requests, int ClickedRequests, double HitRate10Sum, double MrrSum, bool Converted, double[] Metrics);

/// <summary>
/// What one session adds to the analytics' aggregates: its identity (for the worst-sessions list), the UTC day it
/// started, how many log records it holds, and one <see cref="SliceDigest"/> per surface and model version of its
/// lists with impressions. Subtracting the same digest undoes the addition (erasure).
/// </summary>
public sealed record SessionDigest(
    string UserId, long FirstSequence, DateTimeOffset Start, DateTimeOffset End, int Records, IReadOnlyList<SliceDigest> Slices)
{
    private const int Format = 1;

    public string Id => $"{UserId}@{FirstSequence}";

    public int Day => DayOf(Start);

    /// <summary>Days since 1970-01-01 (UTC) of an instant.</summary>
    public static int DayOf(DateTimeOffset at) => (int)Math.Floor(at.ToUnixTimeSeconds() / 86_400.0);

    /// <summary>Scores the session with every metric of <paramref name="metrics"/> (in that order).</summary>
    public static SessionDigest Of(LoggedSession session, IReadOnlyList<NamedMetric> metrics)
    {
        var slices = new List<SliceDigest>();
        foreach (var slice in SessionAnalytics.Slices(session))
        {
            var lists = slice.Lists;
            var eval = session.ToEvalSession(lists.Contains);
            var values = new double[metrics.Count];
            for (var m = 0; m < values.Length; m++)
            {
                values[m] = metrics[m].Compute(eval);
            }

            double hits = 0, reciprocal = 0;
            var clicked = 0;
            var converted = false;
            foreach (var list in lists)
            {
                var positions = list.Feedback.Select(f => f.Position).ToList();
                hits += ListMetrics.HitRate(positions, 10);
                reciprocal += ListMetrics.ReciprocalRank(positions);
                clicked += list.Clicked ? 1 : 0;
                converted |= list.Converted;
            }

            slices.Add(new SliceDigest(slice.Surface, slice.ModelVersion, lists.Count, clicked, hits, reciprocal, converted, values));
        }

        return new SessionDigest(session.UserId, session.FirstSequence, session.Start, session.End, session.Records.Count, slices);
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Format);
        writer.Write(UserId);
        writer.Write(FirstSequence);
        writer.Write(Start.UtcTicks);
        writer.Write(End.UtcTicks);
        writer.Write(Records);
        writer.Write(Slices.Count);
        foreach (var s in Slices)
        {
            writer.Write(s.Surface);
            writer.Write(s.ModelVersion);
            writer.Write(s.Requests);
            writer.Write(s.ClickedRequests);
            writer.Write(s.HitRate10Sum);
            writer.Write(s.MrrSum);
            writer.Write(s.Converted);
            writer.Write(s.Metrics.Length);
            foreach (var value in s.Metrics)
            {
                writer.Write(value);
            }
        }
    }

    public static SessionDigest ReadFrom(BinaryReader reader)
    {
        if (reader.ReadInt32() != Format)
        {
            throw new InvalidDataException("Unknown session digest format.");
        }

        var user = reader.ReadString();
        var first = reader.ReadInt64();
        var start = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var end = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var records = reader.ReadInt32();
        var slices = new SliceDigest[reader.ReadInt32()];
        for (var i = 0; i < slices.Length; i++)
        {
            var surface = reader.ReadString();
            var model = reader.ReadString();
            var requests = reader.ReadInt32();
            var clicked = reader.ReadInt32();
            var hits = reader.ReadDouble();
            var mrr = reader.ReadDouble();
            var converted = reader.ReadBoolean();
            var values = new double[reader.ReadInt32()];
            for (var m = 0; m < values.Length; m++)
            {
                values[m] = reader.ReadDouble();
            }

            slices[i] = new SliceDigest(surface, model, requests, clicked, hits, mrr, converted, values);
        }

        return new SessionDigest(user, first, start, end, records, slices);
    }

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            WriteTo(writer);
        }

        return stream.ToArray();
    }

    public static SessionDigest FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        return ReadFrom(reader);
    }
}
