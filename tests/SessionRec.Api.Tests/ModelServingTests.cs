namespace SessionRec.Api.Tests;

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Abstractions.Replicas;
using SessionRec.Api.Contracts;
using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;
using SessionRec.TestSupport;
using SessionRec.Training;
using SessionRec.Training.Export;

/// <summary>
/// A real model (trained here in seconds on a structured synthetic catalogue, exported to ONNX) served by the API:
/// activation, the version in every response, a new item recommendable without retraining, a corrupt version
/// refused while the current one keeps serving, rollback and the baseline.
/// </summary>
[Collection(ModelServingCollection.Name)]
public sealed class ModelServingTests : IAsyncLifetime
{
    private readonly string _models = Path.Combine(Path.GetTempPath(), "sessionrec-models-" + Guid.NewGuid().ToString("N"));
    private RedisServer _redis = null!;
    private ApiFactory _factory = null!;
    private HttpClient _a = null!;
    private HttpClient _b = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _factory = new ApiFactory(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Models:Path"] = _models,
            ["Models:PollInterval"] = "00:00:00.200",
        });
        _a = _factory.ClientFor(ApiFactory.KeyA);
        _b = _factory.ClientFor(ApiFactory.KeyB);
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

    private static TrainedModel Train(int seed) => TinyModel.Train(seed);

    private void Write(string version, TrainedModel model) => TinyModel.Write(_models, ApiFactory.TenantA, version, model);

    private async Task<RecommendationsResponse> RecommendAsync(HttpClient client, string user, int k = 30)
    {
        var response = await client.GetAsync($"/v1/users/{user}/recommendations?k={k}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Read<RecommendationsResponse>();
    }

    [Fact(Timeout = 120_000)]
    public async Task Above_the_threshold_the_model_ranks_candidates_from_an_approximate_index_and_new_items_still_reach_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var factory = new ApiFactory(_redis.ConnectionString, AnnSettings());
        var client = factory.ClientFor(ApiFactory.KeyA);
        var catalogue = SyntheticData.Create().Items;
        var items = catalogue.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, attributes = i.Attributes, price = i.Price, available = true }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/items", new { items })).StatusCode);
        var session = Enumerable.Range(0, 300).Where(i => i % 3 == 1 && (i / 3) % 4 == 2).Take(3).Select(i => $"item-{i}").ToArray();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/v1/events", new { events = session.Select((item, n) => Http.View($"ev-{n}", "alice", item, at: at.AddSeconds(n * 10))).ToArray() })).StatusCode);
        Write("v1", Train(seed: 1));
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/models", new { active = "v1" })).StatusCode);

        // The first model requests build the item vectors, then the approximate index in the background: wait for it.
        var grains = factory.Services.GetRequiredService<IGrainFactory>();
        var silo = factory.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        ReplicaDescription replica;
        while (true)
        {
            Assert.Equal("v1", (await RecommendAsync(client, "alice")).ModelVersion);
            replica = await grains.GetGrain<ISiloReplicasGrain>(silo).DescribeAsync(ApiFactory.TenantA);
            if (replica.AnnRows > 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no approximate index after 60 s");
            await Task.Delay(100, ct);
        }

        Assert.Equal((catalogue.Count, "v1"), (replica.AnnRows, replica.IndexModelVersion));

        // Ranked from 20 retrieved rows (of 300) plus what the sparse terms name: still the session's branch.
        var served = await RecommendAsync(client, "alice");
        Assert.All(served.Items, i => Assert.Equal("model", i.Source));
        var inBranch = served.Items.Take(10).Count(i => int.Parse(i.ItemId["item-".Length..], System.Globalization.CultureInfo.InvariantCulture) % 3 == 1);
        Assert.True(inBranch >= 7, $"only {inBranch} of the top 10 are in the session's primary category");

        // An item added after the index was built is not in it: it is scored exactly, and ranks.
        var twin = catalogue[int.Parse(session[0]["item-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
        var newItem = new { id = "brand-new-fit", title = twin.Title, brand = twin.Brand, categories = twin.Categories, available = true };
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/items", new { items = new[] { newItem } })).StatusCode);
        var withNew = await RecommendAsync(client, "alice", k: 100);
        Assert.Equal("model", Assert.Single(withNew.Items, i => i.ItemId == "brand-new-fit").Source);
        Assert.Equal(catalogue.Count, (await grains.GetGrain<ISiloReplicasGrain>(silo).DescribeAsync(ApiFactory.TenantA)).AnnRows);
    }

    [Fact(Timeout = 180_000)]
    public async Task Rows_left_outside_the_approximate_index_are_indexed_once_the_catalogue_is_quiet()
    {
        var ct = TestContext.Current.CancellationToken;
        var settings = AnnSettings();
        settings["Recommendations:AnnQuietRebuild"] = "00:00:05";
        await using var factory = new ApiFactory(_redis.ConnectionString, settings);
        var client = factory.ClientFor(ApiFactory.KeyA);
        var catalogue = SyntheticData.Create().Items;
        await ServeModelAsync(client, catalogue);
        var built = await PollReplicaAsync(factory, client, r => r.AnnRows > 0, ct);
        Assert.Equal(catalogue.Count, built.AnnRows);

        // One item more is far below the 2% that rebuilds an index at once (and one per thousand of 300 rows): it waits
        // outside the index, scored exactly, until the catalogue has been quiet for 5 s; then the index holds it.
        var twin = catalogue[0];
        var newItem = new { id = "quiet-new", title = twin.Title, brand = twin.Brand, categories = twin.Categories, available = true };
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/items", new { items = new[] { newItem } })).StatusCode);
        var outside = await PollReplicaAsync(factory, client, r => r.Items == catalogue.Count + 1, ct);
        Assert.Equal(catalogue.Count, outside.AnnRows);
        var rebuilt = await PollReplicaAsync(factory, client, r => r.AnnRows == catalogue.Count + 1, ct);
        Assert.Equal(catalogue.Count + 1, rebuilt.Items);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_restarted_silo_reads_its_saved_item_vectors_and_approximate_index_and_encodes_only_what_changed()
    {
        var ct = TestContext.Current.CancellationToken;
        var (data, settings) = RestartableSettings();
        settings["Recommendations:AnnThreshold"] = "50";
        settings["Recommendations:AnnCandidates"] = "20";
        var catalogue = SyntheticData.Create().Items;
        var snapshot = Path.Combine(data, "snapshots", ApiFactory.TenantA, "v1", "vectors.bin");
        try
        {
            await using (var first = new ApiFactory(_redis.ConnectionString, settings))
            {
                var client = first.ClientFor(ApiFactory.KeyA);
                await ServeModelAsync(client, catalogue);

                // Encoded once, then indexed (an inverted file, the default): the snapshot is saved after each (polled: both
                // are written in the background).
                var built = await PollReplicaAsync(first, client, r => r.AnnRows > 0 && File.Exists(snapshot) && File.Exists(Path.Combine(Path.GetDirectoryName(snapshot)!, "ann.ivf")), ct);
                Assert.Equal((1, 0, catalogue.Count), (built.IndexBuilds, built.IndexRestores, built.AnnRows));
            }

            await using var second = new ApiFactory(_redis.ConnectionString, settings);
            var again = second.ClientFor(ApiFactory.KeyA);

            // After the restart, before its first model request, an item arrives: the one item the restart encodes.
            var twin = catalogue[4];
            Assert.Equal(HttpStatusCode.OK, (await again.PutJson("/v1/items", new { items = new[] { new { id = "added-after-restart", title = twin.Title, brand = twin.Brand, categories = twin.Categories, available = true } } })).StatusCode);
            var restored = await PollReplicaAsync(second, again, r => r.IndexModelVersion == "v1", ct);
            Assert.Equal((0, 1, catalogue.Count), (restored.IndexBuilds, restored.IndexRestores, restored.AnnRows));
            var at = DateTimeOffset.UtcNow.AddMinutes(-1);
            Assert.Equal(HttpStatusCode.OK, (await again.PostJson("/v1/events", new { events = new[] { Http.View("restart-ev", "bob", twin.Id, at: at) } })).StatusCode);
            var served = await RecommendAsync(again, "bob", k: 100);
            Assert.Equal("v1", served.ModelVersion);
            Assert.Equal("model", Assert.Single(served.Items, i => i.ItemId == "added-after-restart").Source);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_restarted_silo_loads_the_serving_state_of_tenants_with_a_model_before_their_first_request()
    {
        var ct = TestContext.Current.CancellationToken;
        var (data, settings) = RestartableSettings();
        var catalogue = SyntheticData.Create().Items;
        try
        {
            await using (var first = new ApiFactory(_redis.ConnectionString, settings))
            {
                var client = first.ClientFor(ApiFactory.KeyA);
                await ServeModelAsync(client, catalogue);
                await PollReplicaAsync(first, client, r => r.IndexModelVersion == "v1" && File.Exists(Path.Combine(data, "snapshots", ApiFactory.TenantA, "v1", "vectors.bin")), ct);
            }

            // No request reaches the restarted silo: what it holds, it loaded at start.
            await using (var second = new ApiFactory(_redis.ConnectionString, settings))
            {
                await second.Services.GetRequiredService<SessionRec.Silo.Recommendations.ServingWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(60), ct);
                var held = await DescribeAsync(second);
                Assert.Equal((catalogue.Count, "v1", 0, 1, 0L), (held.Items, held.IndexModelVersion, held.IndexBuilds, held.IndexRestores, held.Served));
            }

            // Turned off, a restart loads nothing until a tenant's first request.
            settings["Recommendations:WarmUpTenants"] = "0";
            await using var third = new ApiFactory(_redis.ConnectionString, settings);
            await third.Services.GetRequiredService<SessionRec.Silo.Recommendations.ServingWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(60), ct);
            var none = await DescribeAsync(third);
            Assert.Equal((0, (string?)null, 0), (none.Items, none.IndexModelVersion, none.IndexRestores));
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    /// <summary>Puts the catalogue and activates model v1 (trained here) for tenant A.</summary>
    private async Task ServeModelAsync(HttpClient client, IReadOnlyList<SessionRec.Models.Data.ImportItem> catalogue)
    {
        var items = catalogue.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, available = true }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/items", new { items })).StatusCode);
        Write("v1", Train(seed: 1));
        Assert.Equal(HttpStatusCode.OK, (await client.PutJson("/v1/models", new { active = "v1" })).StatusCode);
    }

    /// <summary>A model from the test's folder and an approximate index from 50 items on, retrieving 20 rows a request.</summary>
    private Dictionary<string, string?> AnnSettings() => new()
    {
        ["Models:Path"] = _models,
        ["Models:PollInterval"] = "00:00:00.200",
        ["Recommendations:AnnThreshold"] = "50",
        ["Recommendations:AnnCandidates"] = "20",
    };

    /// <summary>Settings for factories that restart on one data folder (its own, deleted by the test).</summary>
    private (string Data, Dictionary<string, string?> Settings) RestartableSettings()
    {
        var data = Path.Combine(Path.GetTempPath(), "sessionrec-data-" + Guid.NewGuid().ToString("N")[..8]);
        return (data, new Dictionary<string, string?>
        {
            ["Models:Path"] = _models,
            ["Models:PollInterval"] = "00:00:00.200",
            ["Storage:DataPath"] = data,
        });
    }

    /// <summary>What the factory's own silo holds for tenant A (asked of that silo's replicas grain; loads nothing).</summary>
    private static Task<ReplicaDescription> DescribeAsync(ApiFactory factory)
    {
        var grains = factory.Services.GetRequiredService<IGrainFactory>();
        var silo = factory.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
        return grains.GetGrain<ISiloReplicasGrain>(silo).DescribeAsync(ApiFactory.TenantA);
    }

    /// <summary>Asks for recommendations until the tenant's replica on the factory's silo satisfies <paramref name="done"/> (60 s at most).</summary>
    private async Task<ReplicaDescription> PollReplicaAsync(ApiFactory factory, HttpClient client, Func<ReplicaDescription, bool> done, CancellationToken ct)
    {
        var grains = factory.Services.GetRequiredService<IGrainFactory>();
        var silo = factory.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await RecommendAsync(client, "alice");
            var replica = await grains.GetGrain<ISiloReplicasGrain>(silo).DescribeAsync(ApiFactory.TenantA);
            if (done(replica))
            {
                return replica;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the replica did not get there in 60 s: {replica}");
            await Task.Delay(100, ct);
        }
    }

    [Fact]
    public async Task A_trained_model_serves_new_items_without_retraining_and_bad_versions_are_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var catalogue = SyntheticData.Create().Items;
        var items = catalogue.Select(i => new { id = i.Id, title = i.Title, brand = i.Brand, categories = i.Categories, attributes = i.Attributes, price = i.Price, available = true }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/items", new { items })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _b.PutJson("/v1/items", new { items })).StatusCode);

        // A session in "Skin Care > Skin Care sub 2" (item i: primary i % 3 == 1, sub (i / 3) % 4 == 2).
        var session = Enumerable.Range(0, 300).Where(i => i % 3 == 1 && (i / 3) % 4 == 2).Take(3).Select(i => $"item-{i}").ToArray();
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        var events = session.Select((item, n) => Http.View($"ev-{n}", "alice", item, at: at.AddSeconds(n * 10))).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await _a.PostJson("/v1/events", new { events })).StatusCode);

        var before = await RecommendAsync(_a, "alice");
        Assert.Equal("baseline-cooc-1", before.ModelVersion);

        Write("v1", Train(seed: 1));
        Write("v2", Train(seed: 2));
        var activated = await _a.PutJson("/v1/models", new { active = "v1" });
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        var afterFirst = await activated.Read<ModelsResponse>();
        Assert.Equal("v1", afterFirst.Serving);

        // The first activation is in the history: what served before it (the baseline) is a rollback target.
        Assert.Equal(["baseline-cooc-1"], afterFirst.History);
        Assert.Equal(("v1", "activate"), (Assert.Single(afterFirst.Activations).Version, afterFirst.Activations[0].Action));

        var served = await RecommendAsync(_a, "alice");
        Assert.Equal("v1", served.ModelVersion);
        Assert.All(served.Items, i => Assert.Equal("model", i.Source));
        Assert.DoesNotContain(served.Items, i => session.Contains(i.ItemId));
        var inBranch = served.Items.Take(10).Count(i => int.Parse(i.ItemId["item-".Length..], System.Globalization.CultureInfo.InvariantCulture) % 3 == 1);
        Assert.True(inBranch >= 7, $"only {inBranch} of the top 10 are in the session's primary category");

        // Tenant B has no model: it keeps the baseline.
        Assert.Equal("baseline-cooc-1", (await RecommendAsync(_b, "bob")).ModelVersion);

        // A brand-new item in the session's branch, and its twin in another branch: only metadata tells them apart.
        var twin = catalogue[int.Parse(session[0]["item-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
        object NewItem(string id, string primary) => new
        {
            id,
            title = twin.Title,
            brand = twin.Brand,
            categories = new[] { primary, $"{primary} sub 2", twin.Categories[2] },
            available = true,
        };
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/items", new { items = new[] { NewItem("brand-new-fit", "Skin Care"), NewItem("brand-new-other", "Hair Care") } })).StatusCode);
        var withNew = await RecommendAsync(_a, "alice", k: 100);
        var fit = withNew.Items.FirstOrDefault(i => i.ItemId == "brand-new-fit");
        Assert.NotNull(fit);
        var other = withNew.Items.FirstOrDefault(i => i.ItemId == "brand-new-other");
        Assert.True(other is null || other.Position > fit.Position, "the item in the session's branch ranks above its twin elsewhere");

        // A corrupt version is refused with the reason; v1 keeps serving.
        Write("v-bad", Train(seed: 3));
        var encoder = Path.Combine(_models, ApiFactory.TenantA, "v-bad", ModelContract.SessionEncoderFile);
        await File.WriteAllBytesAsync(encoder, [1, 2, 3], ct);
        var refused = await _a.PutJson("/v1/models", new { active = "v-bad" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("SHA-256", (await refused.ReadProblem()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("v1", (await RecommendAsync(_a, "alice")).ModelVersion);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.PutJson("/v1/models", new { active = "v9" })).StatusCode);

        // v2, then roll back to v1, then the baseline.
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/models", new { active = "v2" })).StatusCode);
        Assert.Equal("v2", (await RecommendAsync(_a, "alice")).ModelVersion);
        var rolledBack = await (await _a.PutJson("/v1/models", new { rollback = true })).Read<ModelsResponse>();
        Assert.Equal("v1", rolledBack.Serving);
        Assert.Equal("v1", (await RecommendAsync(_a, "alice")).ModelVersion);
        var listed = await (await _a.GetAsync("/v1/models", ct)).Read<ModelsResponse>();
        Assert.Equal(["v-bad", "v1", "v2"], listed.Versions.Select(v => v.Version));
        Assert.Contains(listed.Versions, v => v.Version == "v1" && v.Metrics!.ContainsKey("validation_NDCG@20"));
        Assert.Empty((await (await _b.GetAsync("/v1/models", ct)).Read<ModelsResponse>()).Versions);

        Assert.Equal(["baseline-cooc-1"], listed.History);
        Assert.Equal(["v1", "v2", "v1"], listed.Activations.Select(a => a.Version));
        Assert.Equal(["rollback", "activate", "activate"], listed.Activations.Select(a => a.Action));

        // Rolling back past the first activation returns to the baseline; then there is nothing to roll back to.
        var toBaseline = await (await _a.PutJson("/v1/models", new { rollback = true })).Read<ModelsResponse>();
        Assert.Equal("baseline-cooc-1", toBaseline.Serving);
        Assert.Null(toBaseline.Active);
        Assert.Empty(toBaseline.History);
        Assert.Equal("baseline-cooc-1", (await RecommendAsync(_a, "alice")).ModelVersion);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _a.PutJson("/v1/models", new { rollback = true })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/models", new { active = "v2" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _a.PutJson("/v1/models", new { active = (string?)null })).StatusCode);
        Assert.Equal("baseline-cooc-1", (await RecommendAsync(_a, "alice")).ModelVersion);
        Assert.Equal(["v2"], (await (await _a.GetAsync("/v1/models", ct)).Read<ModelsResponse>()).History);
    }
}
