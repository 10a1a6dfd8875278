namespace SessionRec.Api.Tests;

using System.Net;
using SessionRec.TestSupport;

/// <summary>Requests with a refused key are limited per client address; accepted keys keep their own budget.</summary>
public sealed class FailedAuthLimitTests
{
    [Fact(Timeout = 120_000)]
    public async Task GuessingKeysIsRateLimitedWhileAValidKeyStillWorks()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var redis = await RedisServer.StartAsync();
        await using var factory = new ApiFactory(redis.ConnectionString, new Dictionary<string, string?> { ["Api:FailedAuthPerSecond"] = "5" });
        using var guesser = factory.ClientFor("guessed-key-0000");
        using var tenant = factory.ClientFor(ApiFactory.KeyA);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 40 && limited is null; i++)
        {
            var response = await guesser.GetAsync("/v1/items/a", ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        // The bucket holds twice the per-second rate: the first guesses get 401, then 429 with a reason.
        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0]);
        Assert.NotNull(limited);
        Assert.InRange(statuses.Count, 10, 40);
        Assert.True(limited.Headers.RetryAfter is not null);
        Assert.Contains("refused API key", (await limited.ReadProblem()).GetProperty("detail").GetString());

        // A valid key from the same address is not held back by the guesses.
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.GetAsync("/v1/items/a", ct)).StatusCode);
    }
}
