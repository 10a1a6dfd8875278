namespace SessionRec.KnowledgeStore.Tests;

using SessionRec.KnowledgeStore.Suggestions;

/// <summary>The query log's published form: k-anonymous, without user ids, answering as the live log does.</summary>
public class QueryLogSnapshotTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static QueryLog Log()
    {
        var log = new QueryLog { MinUsers = 2 };
        var random = new Random(7);
        string[] words = ["lip", "lipstick", "liner", "nail", "nail polish", "mascara", "shampoo", "serum", "red", "matte"];
        for (var i = 0; i < 3_000; i++)
        {
            var user = $"u{random.Next(200)}";
            var query = $"{words[random.Next(words.Length)]} {words[random.Next(words.Length)]}";
            log.Add(query, Now.AddMinutes(-random.Next(10_000)), i % 3 == 0 ? words[random.Next(words.Length)] : null, user);
        }

        log.Add("only mine", Now, "lipstick", "lonely");
        return log;
    }

    private static T RoundTrip<T>(Action<BinaryWriter> write, Func<BinaryReader, T> read)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        return read(reader);
    }

    [Theory]
    [InlineData("")]
    [InlineData("l")]
    [InlineData("li")]
    [InlineData("lip")]
    [InlineData("nail p")]
    [InlineData("zzz")]
    public void TheSnapshotCompletesEveryPrefixAsTheLiveLogDoes(string prefix)
    {
        var log = Log();
        var snapshot = RoundTrip(QueryLogSnapshot.From(log).WriteTo, QueryLogSnapshot.ReadFrom);
        Assert.Equal(log.TopCompletions(prefix, 50), snapshot.TopCompletions(prefix, 50));
        Assert.Equal(log.MaxCount, snapshot.MaxCount);
        Assert.Equal(log.Next("lipstick").OrderBy(kv => kv.Key, StringComparer.Ordinal), snapshot.Next("lipstick").OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void TheSnapshotHoldsNothingOneUserSearchedAloneAndNoUserId()
    {
        var log = Log();
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            QueryLogSnapshot.From(log).WriteTo(writer);
        }

        var bytes = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.DoesNotContain("only mine", bytes, StringComparison.Ordinal);
        Assert.DoesNotContain("lonely", bytes, StringComparison.Ordinal);
        Assert.DoesNotContain("u17", bytes, StringComparison.Ordinal);
        Assert.True(log.Holds("lonely"));
    }

    [Fact]
    public void TheCheckpointKeepsContributionsSoAnErasureAfterARestartStillTakesThemBack()
    {
        var log = new QueryLog { MinUsers = 2 };
        log.Add("red lipstick", Now, "lipstick", "a");
        log.Add("red lipstick", Now, "lipstick", "b");
        var restored = RoundTrip(log.WriteTo, QueryLog.ReadFrom);
        restored.MinUsers = 2;
        Assert.Equal(2, restored.Find("red lipstick")!.Value.Users);
        Assert.Equal(2, restored.Next("lipstick")["red lipstick"]);

        restored.ForgetUser("a");
        Assert.False(restored.Holds("a"));
        Assert.Null(restored.Find("red lipstick"));
        Assert.Empty(QueryLogSnapshot.From(restored).TopCompletions("", 10));
    }

    [Fact]
    public void TrimmingKeepsTheMostRecentlySearchedQueriesAndForgetsTheirTransitions()
    {
        var log = new QueryLog();
        for (var i = 0; i < 2_000; i++)
        {
            log.Add($"query {i}", Now.AddMinutes(i), i > 0 ? $"query {i - 1}" : null, $"u{i % 7}");
        }

        var dropped = log.Trim(1_000);
        Assert.True(log.Count <= 1_000, $"{log.Count} queries kept");
        Assert.Equal(2_000 - log.Count, dropped);
        Assert.NotNull(log.Find("query 1999"));
        Assert.Null(log.Find("query 0"));
        Assert.Empty(log.Next("query 0"));
        Assert.DoesNotContain(log.TopCompletions("query 0", 5), q => q.Key == "query 0");
    }
}
