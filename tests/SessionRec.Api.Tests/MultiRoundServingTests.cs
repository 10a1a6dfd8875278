namespace SessionRec.Api.Tests;

using System.Globalization;
using System.Net;
using SessionRec.Api.Contracts;
using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training;
using SessionRec.Training.Export;
using SessionRec.Training.MultiRound;

/// <summary>
/// Multi-round retrieval served over HTTP by a real fine-tuned model (trained here in seconds): the rounds the
/// service runs through ONNX Runtime retrieve what the trained model retrieves, every item names its round,
/// "more" continues with the next rounds (state in the session grain), a changed session starts over, and bad
/// parameters get ProblemDetails.
/// </summary>
[Collection(ModelServingCollection.Name)]
public sealed class MultiRoundServingTests : IAsyncLifetime
{
    private const int Rounds = 3;
    private const int PerRound = 6;

    private readonly string _models = Path.Combine(Path.GetTempPath(), "sessionrec-models-" + Guid.NewGuid().ToString("N"));
    private RedisServer _redis = null!;
    private ApiFactory _factory = null!;
    private HttpClient _a = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _factory = new ApiFactory(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Models:Path"] = _models,
            ["Models:PollInterval"] = "00:00:00.200",
        });
        _a = _factory.ClientFor(ApiFactory.KeyA);
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _redis.DisposeAsync();
        if (Directory.Exists(_models))
        {
            Directory.Delete(_models, recursive: true);
        }
    }

    private async Task<RecommendationsResponse> RecommendAsync(string query)
    {
        var response = await _a.GetAsync($"/v1/users/alice/recommendations?{query}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Read<RecommendationsResponse>();
    }

    private static int Index(string itemId) => int.Parse(itemId["item-".Length..], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Rounds_match_the_trained_model_and_more_continues_with_the_next_rounds()
    {
        var split = SyntheticData.Split();
        var model = TinyModel.Train(seed: 4);
        var multiRound = MultiRoundTrainer.FineTune(model, split, model.Module.Options, new MultiRoundOptions { Rounds = Rounds, PerRound = PerRound, MaxEpochs = 2, BatchSize = 64, ValidationUsers = 100 });
        var data = new TrainingData("synthetic", "test", 400, 300, 3000);
        // "pure": no ranking stage, the rounds' lists are served as they are; "fused": the ranking stage with the multi-round term.
        ModelFolderWriter.Write(Path.Combine(_models, ApiFactory.TenantA, "pure"), "pure", multiRound.Model, data, [], null, multiRound: multiRound);
        ModelFolderWriter.Write(Path.Combine(_models, ApiFactory.TenantA, "fused"), "fused", multiRound.Model, data, [], new FusionWeights(0.5f, 0, MultiRound: 2), multiRound: multiRound);

        var catalogue = SyntheticData.Create().Items;
        var items = catalogue.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, attributes = i.Attributes, price = i.Price, available = true }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/items", new { items })).StatusCode);
        var session = Enumerable.Range(0, 300).Where(i => i % 3 == 2 && (i / 3) % 4 == 1).Take(4).ToArray();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var events = session.Select((item, n) => Http.View($"ev-{n}", "alice", $"item-{item}", at: at.AddSeconds(n * 10))).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await _a.PostJson("/v1/events", new { events })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/models", new { active = "pure" })).StatusCode);

        // What the trained model retrieves for this session in 5 rounds (torch), to compare with the service (ONNX).
        var expected = MultiRoundTrainer.Retrieve(multiRound, [session], rounds: 5)[0];
        static double Agreement(IReadOnlyList<int> expected, IReadOnlyList<int> actual) =>
            (double)expected.Zip(actual, (e, a) => e == a).Count(x => x) / expected.Count;

        // The model's own number of rounds by default: round 1's items, then round 2's, then round 3's (asking for
        // more than the rounds found fills the rest from the baseline's sources, without a round).
        var filled = await RecommendAsync("k=30");
        Assert.Equal(Enumerable.Range(0, Rounds * PerRound).Select(p => (int?)((p / PerRound) + 1)).Concat(Enumerable.Repeat<int?>(null, 30 - (Rounds * PerRound))), filled.Items.Select(i => i.Round));
        var first = await RecommendAsync($"k={Rounds * PerRound}");
        Assert.Equal("pure", first.ModelVersion);
        Assert.Equal(Rounds, first.Rounds);
        Assert.False(first.Continued);
        Assert.Equal(Rounds * PerRound, first.Items.Count);
        Assert.Equal(Enumerable.Range(0, Rounds * PerRound).Select(p => (p / PerRound) + 1), first.Items.Select(i => i.Round!.Value));
        Assert.All(first.Items, i => Assert.Contains($"round {i.Round}", i.Reason, StringComparison.Ordinal));
        Assert.DoesNotContain(first.Items, i => session.Contains(Index(i.ItemId)));
        var firstAgreement = Agreement(expected[..(Rounds * PerRound)], [.. first.Items.Select(i => Index(i.ItemId))]);
        Assert.True(firstAgreement >= 0.85, $"only {firstAgreement:P0} of the positions agree with the trained model");

        // "more": the next two rounds (4 and 5), continuing the GRU state and masking what the first page showed.
        var more = await RecommendAsync($"k={2 * PerRound}&rounds=2&more=true");
        Assert.True(more.Continued);
        Assert.Equal(5, more.Rounds);
        Assert.Equal(2 * PerRound, more.Items.Count);
        Assert.All(more.Items, i => Assert.InRange(i.Round!.Value, 4, 5));
        Assert.Empty(more.Items.Select(i => i.ItemId).Intersect(first.Items.Select(i => i.ItemId)));
        var moreAgreement = Agreement(expected[(Rounds * PerRound)..], [.. more.Items.Select(i => Index(i.ItemId))]);
        Assert.True(moreAgreement >= 0.75, $"only {moreAgreement:P0} of rounds 4–5 agree with the trained model");

        // Single pass on request: no rounds.
        var single = await RecommendAsync("k=10&rounds=0");
        Assert.Null(single.Rounds);
        Assert.All(single.Items, i => Assert.Null(i.Round));

        // A changed session starts over even when asked for more.
        Assert.Equal(HttpStatusCode.OK, (await _a.PostJson("/v1/events", new { events = new[] { Http.View("ev-new", "alice", $"item-{expected[0]}", at: at.AddSeconds(60)) } })).StatusCode);
        var restarted = await RecommendAsync("k=100&more=true");
        Assert.False(restarted.Continued);
        Assert.Equal(Rounds, restarted.Rounds);

        // The ranking stage with the multi-round term: items keep their rounds; round-1 items outrank the rest.
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/models", new { active = "fused" })).StatusCode);
        var fused = await RecommendAsync("k=20");
        Assert.Equal("fused", fused.ModelVersion);
        Assert.Equal(Rounds, fused.Rounds);
        Assert.Contains(fused.Items, i => i.Round == 1);
        Assert.All(fused.Items.Where(i => i.Round is not null), i => Assert.Contains($"round {i.Round}", i.Reason, StringComparison.Ordinal));
        var restartedRound1 = restarted.Items.Where(i => i.Round == 1).Select(i => i.ItemId).ToHashSet();
        Assert.Equal(restartedRound1, fused.Items.Where(i => i.Round == 1).Select(i => i.ItemId).ToHashSet());

        // Bad parameters: ProblemDetails saying what was wrong.
        foreach (var query in new[] { "rounds=11", "rounds=-1", "rounds=two", "more=maybe" })
        {
            var bad = await _a.GetAsync($"/v1/users/alice/recommendations?{query}", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var detail = (await bad.ReadProblem()).GetProperty("detail").GetString();
            Assert.Contains(query.Split('=')[0], detail, StringComparison.Ordinal);
        }
    }
}
