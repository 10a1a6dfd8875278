namespace SessionRec.Api.Tests;

using System.Diagnostics;
using System.Net;

public sealed class TelemetryTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    // Orleans's grain-call activities (its activation and storage activities come without propagation).
    private static bool GrainCallSource(string source) => source is "Microsoft.Orleans.Runtime" or "Microsoft.Orleans.Application";

    /// <summary>Records the source of every activity that stops in this process until disposed.</summary>
    private static ActivityListener Record(HashSet<string> sources)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (sources) { sources.Add(a.Source.Name); } },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task RequestsEmitHttpAndGrainActivitiesAndAnUnreachableOtlpEndpointDoesNotDisturbThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var sources = new HashSet<string>();
        using var listener = Record(sources);

        // The exporter's endpoint does not answer; export failures must not affect requests.
        await using var traced = new ApiFactory(api.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
        });
        using var client = traced.ClientFor(ApiFactory.KeyA);

        var response = await client.PostJson("/v1/events", new { events = new[] { Http.View("t1", "traced", "a") } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The server's request activity stops after the response is sent: wait for it.
        bool Seen()
        {
            lock (sources)
            {
                return sources.Contains("Microsoft.AspNetCore") && sources.Any(GrainCallSource);
            }
        }

        for (var i = 0; i < 100 && !Seen(); i++)
        {
            await Task.Delay(50, ct);
        }

        Assert.True(Seen(), string.Join(", ", sources));
    }

    [Fact]
    public async Task WithoutAnExporterGrainCallsAreNotTraced()
    {
        // Propagating traces into grains costs every grain call a filter; without an exporter nobody would read them.
        var ct = TestContext.Current.CancellationToken;
        var sources = new HashSet<string>();
        using var listener = Record(sources);

        var response = await api.A.PostJson("/v1/events", new { events = new[] { Http.View("t2", "untraced", "a") } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var suggestions = await api.A.GetAsync("/v1/users/untraced/suggestions?q=li", ct);
        Assert.Equal(HttpStatusCode.OK, suggestions.StatusCode);

        bool Served()
        {
            lock (sources)
            {
                return sources.Contains("Microsoft.AspNetCore");
            }
        }

        for (var i = 0; i < 100 && !Served(); i++)
        {
            await Task.Delay(50, ct);
        }

        lock (sources)
        {
            Assert.True(Served(), string.Join(", ", sources));
            Assert.DoesNotContain(sources, GrainCallSource);
        }
    }
}
