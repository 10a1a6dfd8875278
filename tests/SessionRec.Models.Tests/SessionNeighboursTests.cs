namespace SessionRec.Models.Tests;

using System.Text;
using SessionRec.Models.Baseline;
using SessionRec.Models.Pipeline;
using SessionRec.Models.Ranking;
using SessionRec.Models.Serving;

public sealed class SessionNeighboursTests
{
    private static Dictionary<int, float> Votes(SessionNeighbours neighbours, params int[] query)
    {
        var votes = new Dictionary<int, float>();
        neighbours.Score(query, votes);
        return votes;
    }

    private static SessionNeighbours Fill(SessionNeighbours neighbours, params int[][] sessions)
    {
        foreach (var items in sessions)
        {
            var session = neighbours.Start();
            foreach (var item in items)
            {
                neighbours.Add(session, item);
            }
        }

        return neighbours;
    }

    [Fact]
    public void With_one_vote_enough_it_scores_as_vsknn()
    {
        // Short random sequences, so no bound (length, sample, k) cuts in: the term must equal V-SKNN less its back-off.
        var random = new Random(7);
        var sequences = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, random.Next(2, 8)).Select(_ => random.Next(40)).Distinct().ToArray()).ToList();
        var neighbours = Fill(new SessionNeighbours(minVotes: 1), [.. sequences]);
        var vsknn = new VsknnScorer(sequences, 40);
        var baseline = new float[40];
        vsknn.Score(-1, [], baseline);

        for (var user = 0; user < 20; user++)
        {
            var expected = new float[40];
            vsknn.Score(user, sequences[user], expected);
            var votes = new Dictionary<int, float>();
            neighbours.Score(sequences[user], votes, exclude: user);
            for (var item = 0; item < 40; item++)
            {
                Assert.Equal(expected[item] - baseline[item], votes.GetValueOrDefault(item), 3);
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public void A_copy_read_back_votes_exactly_as_the_pool_it_was_written_from()
    {
        // Replicas score on a copy read back (a faster path); it must give the same votes, bit for bit and in the
        // same order, as the builder's own pool: with every bound cutting in (the ring wraps, sessions outgrow their
        // length, posting lists are pruned, K and the sample are smaller than the candidates) and sessions
        // interleaved, as live users' are.
        var random = new Random(11);
        var pool = new SessionNeighbours(maxSessions: 400, maxLength: 6, sample: 40, k: 15, minVotes: 2);
        var open = new List<long>();
        for (var step = 0; step < 6_000; step++)
        {
            if (open.Count < 8 || random.Next(5) == 0)
            {
                open.Add(pool.Start());
            }

            pool.Add(open[random.Next(open.Count)], random.Next(120));
            if (open.Count > 30)
            {
                open.RemoveAt(0);
            }
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            pool.WriteTo(writer);
        }

        buffer.Position = 0;
        using var reader = new BinaryReader(buffer);
        var copy = SessionNeighbours.ReadFrom(reader);
        var compared = 0;
        for (var q = 0; q < 200; q++)
        {
            int[] query = [.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(130))];
            var expected = new Dictionary<int, float> { [7] = 0.5f };
            var actual = new Dictionary<int, float> { [7] = 0.5f };
            pool.Score(query, expected, 0.25f);
            copy.Score(query, actual, 0.25f);
            Assert.Equal(expected.ToList(), actual.ToList());
            compared += expected.Count > 1 ? 1 : 0;
        }

        Assert.True(compared > 150, $"only {compared} queries got votes: the comparison would prove little");

        // The copy's other path (a session excluded, as offline) agrees too, and so do its writes (a builder resuming
        // from a snapshot): the same sessions afterwards, and the same votes.
        for (var q = 0; q < 50; q++)
        {
            int[] query = [.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(130))];
            var expected = new Dictionary<int, float>();
            var actual = new Dictionary<int, float>();
            pool.Score(query, expected, 1, exclude: open[q % open.Count]);
            copy.Score(query, actual, 1, exclude: open[q % open.Count]);
            Assert.Equal(expected.ToList(), actual.ToList());
        }

        foreach (var written in new[] { pool, copy })
        {
            written.Add(open[^1], 121);
            var added = written.Start();
            written.Add(added, 3);
            written.Add(added, 121);
        }

        Assert.Equal(Bytes(pool.WriteTo), Bytes(copy.WriteTo));
        var after = new Dictionary<int, float>();
        var afterCopy = new Dictionary<int, float>();
        pool.Score([3, 121], after);
        copy.Score([3, 121], afterCopy);
        Assert.Equal(after.ToList(), afterCopy.ToList());
        Assert.NotEmpty(after);
    }

    private static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    [Fact]
    public void With_two_votes_required_an_item_of_one_other_session_alone_gets_none()
    {
        var neighbours = Fill(new SessionNeighbours(minVotes: 2), [1, 2], [1, 2, 3], [1, 4]);
        var votes = Votes(neighbours, 1);

        Assert.True(votes[2] > 0); // two sessions hold 2 beside 1
        Assert.DoesNotContain(3, votes.Keys); // one session alone holds 3
        Assert.DoesNotContain(4, votes.Keys);
        Assert.Equal(4, Votes(Fill(new SessionNeighbours(minVotes: 1), [1, 2], [1, 2, 3], [1, 4]), 1).Count);
    }

    [Fact]
    public void The_pool_keeps_the_newest_sessions_and_their_last_items()
    {
        var neighbours = Fill(new SessionNeighbours(maxSessions: 3, maxLength: 2, minVotes: 1), [1, 9], [1, 9], [5, 6, 7], [1, 2], [1, 2]);

        Assert.Equal(3, neighbours.Count);
        var votes = Votes(neighbours, 1);
        Assert.DoesNotContain(9, votes.Keys); // the two sessions holding 9 were the oldest: dropped
        Assert.True(votes[2] > 0);
        Assert.Empty(Votes(neighbours, 5)); // the session of 5, 6, 7 keeps its last two items: 5 went
        Assert.True(Votes(neighbours, 6)[7] > 0);
    }

    [Fact]
    public void The_most_recent_sessions_come_newest_first_from_the_pool_and_from_a_copy_read_back()
    {
        var pool = Fill(new SessionNeighbours(maxSessions: 4, maxLength: 3, minVotes: 1), [1, 2], [3], [4, 5, 6, 7], [8, 9], [10], [11, 12]);

        // The oldest two went (four held); the one-item sessions are too short; the long one keeps its last three.
        string Show(List<int[]> sessions) => string.Join(" | ", sessions.Select(items => string.Join(",", items)));
        Assert.Equal("11,12 | 8,9 | 5,6,7", Show(pool.Recent(10, minLength: 2)));
        Assert.Equal("11,12", Show(pool.Recent(1, minLength: 2)));

        using var buffer = new MemoryStream(Bytes(pool.WriteTo));
        Assert.Equal("11,12 | 8,9 | 5,6,7", Show(SessionNeighbours.ReadFrom(new BinaryReader(buffer)).Recent(10, minLength: 2)));
    }

    [Fact]
    public void Forgetting_an_owner_drops_their_sessions_and_no_snapshot_names_an_owner()
    {
        var neighbours = new SessionNeighbours(minVotes: 1);
        foreach (var (owner, items) in new[] { ("ann@example.org", new[] { 1, 2 }), ("bob@example.org", new[] { 1, 3 }), ("ann@example.org", new[] { 1, 4 }) })
        {
            var session = neighbours.Start(owner);
            foreach (var item in items)
            {
                neighbours.Add(session, item);
            }
        }

        using var snapshot = new MemoryStream();
        using (var writer = new BinaryWriter(snapshot, Encoding.UTF8, leaveOpen: true))
        {
            neighbours.WriteTo(writer);
        }

        Assert.DoesNotContain("example.org", Encoding.UTF8.GetString(snapshot.ToArray()));
        snapshot.Position = 0;
        var read = SessionNeighbours.ReadFrom(new BinaryReader(snapshot));
        Assert.Equal(Votes(neighbours, 1).OrderBy(v => v.Key), Votes(read, 1).OrderBy(v => v.Key));

        Assert.True(neighbours.Holds("ann@example.org"));
        Assert.Equal(2, neighbours.Forget("ann@example.org"));
        Assert.False(neighbours.Holds("ann@example.org"));
        Assert.Equal([1, 3], Votes(neighbours, 1).Keys.Order()); // bob's session only (the query's own item included)
        Assert.True(neighbours.Holds("bob@example.org"));
    }

    [Fact]
    public void The_ranking_stage_adds_the_session_knn_votes()
    {
        var statistics = new InteractionStatistics(TimeSpan.FromDays(7));
        var at = DateTimeOffset.UtcNow;

        // Two earlier sessions went a → b; none went a → c. Co-occurrence and item-kNN are off: only session-kNN can lift b.
        for (var s = 0; s < 2; s++)
        {
            var session = statistics.Neighbours.Start("someone");
            statistics.Observe("a", 1, at, [], session);
            statistics.Observe("b", 1, at, ["a"], session);
        }

        statistics.Observe("c", 1, at, []);
        var index = new ItemVectorIndex("v", 2);
        index.Set(["a", "b", "c"], [1, 0, 1, 0, 1, 0]);

        List<Candidate> Rank(float weight)
        {
            var into = new List<Candidate>();
            new ModelRankerSource(index, [1, 0], statistics, new FusionWeights(0, 0, SessionKnn: weight)).Collect(new CandidateQuery(["a"], null, 10), 10, into);
            return into;
        }

        var plain = Rank(0);
        Assert.Equal(plain.Single(c => c.ItemId == "b").Score, plain.Single(c => c.ItemId == "c").Score);
        var fused = Rank(2);
        var expected = 2 * 2 * (1 / MathF.Sqrt(1 * 2)); // two neighbours, each similarity 1/√(1·2), weight 2
        Assert.Equal(1 + expected, (float)fused.Single(c => c.ItemId == "b").Score, 4);
        Assert.Equal(1, (float)fused.Single(c => c.ItemId == "c").Score, 4);
    }
}
