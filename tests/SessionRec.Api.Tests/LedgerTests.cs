namespace SessionRec.Api.Tests;

using System.Net;
using SessionRec.Abstractions.ClickLog;
using SessionRec.Api.Contracts;
using SessionRec.Silo.ClickLog;
using SessionRec.Silo.Storage;
using SessionRec.TestSupport;
using StackExchange.Redis;

/// <summary>
/// Nothing lost, nothing twice: a client keeps a ledger of what the service acknowledged, retries what failed
/// (with the same ids), sends duplicates on purpose, and lives through a silo restart and a Redis crash.
/// At the end the click log must hold every acknowledged id exactly once and no rejected one.
/// </summary>
public sealed class LedgerTests
{
    [Fact(Timeout = 300_000)]
    public async Task EveryAcknowledgedEventIsLoggedExactlyOnceAcrossSiloAndRedisRestarts()
    {
        await using var redis = await RedisServer.StartAsync();
        await RunLedgerAsync(redis.ConnectionString, redis.KillAsync, redis.RestartAsync);
    }

    /// <summary>
    /// The same on a 3-master Redis Cluster, where the tenant's log is partitioned over the masters: the master holding
    /// user-0's partition (and so a share of the ledger's users) is killed and restarted.
    /// </summary>
    [Fact(Timeout = 300_000)]
    public async Task EveryAcknowledgedEventIsLoggedExactlyOnceOnARedisClusterWithAMasterKilled()
    {
        await using var cluster = await RedisCluster.StartAsync(3, TestContext.Current.CancellationToken);
        RedisServer? killed = null;
        await RunLedgerAsync(
            cluster.ConnectionString,
            async () =>
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
                const int partitions = ClickLogOptions.ClusterPartitions;
                killed = await cluster.MasterOfAsync(redis, RedisKeys.Log(RedisKeys.LogTag(ApiFactory.TenantA, LogPartitioning.Of("user-0", partitions), partitions)));
                await killed.KillAsync();
            },
            async () =>
            {
                await killed!.RestartAsync();
                await cluster.WaitUntilOkAsync(TimeSpan.FromSeconds(45), stableFor: TimeSpan.FromSeconds(6));
            });
    }

    private static async Task RunLedgerAsync(string connectionString, Func<Task> killStore, Func<Task> restartStore)
    {
        var acknowledged = new HashSet<string>();
        var rejected = new HashSet<string>();
        var pending = new List<object>();
        var random = new Random(42);
        var next = 0;

        List<(string Id, object Body)> NewBatch(int size)
        {
            var batch = new List<(string, object)>();
            for (var i = 0; i < size; i++)
            {
                var id = $"ev-{next++}";
                var user = $"user-{random.Next(20)}";
                if (random.Next(10) == 0)
                {
                    batch.Add((id, new { event_id = id, user_id = user, type = "nope", item_id = "x" }));
                }
                else
                {
                    batch.Add((id, Http.View(id, user, $"item-{random.Next(50)}")));
                }
            }

            return batch;
        }

        async Task<bool> SendAsync(HttpClient client, List<(string Id, object Body)> batch)
        {
            // Re-send a few already-acknowledged ids too: a client that is unsure retries.
            var bodies = batch.Select(b => b.Body).Concat(batch.Take(3).Select(b => b.Body)).ToArray();
            HttpResponseMessage response;
            try
            {
                response = await client.PostJson("/v1/events", new { events = bodies });
            }
            catch (HttpRequestException)
            {
                return false;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.NotNull(response.Headers.RetryAfter);
                return false;
            }

            var body = await response.Read<PostEventsResponse>();
            foreach (var result in body.Results)
            {
                if (result.Status == "rejected")
                {
                    rejected.Add(result.EventId!);
                }
                else
                {
                    acknowledged.Add(result.EventId!);
                }
            }

            return true;
        }

        async Task RunAsync(ApiFactory factory, int batches)
        {
            using var client = factory.ClientFor(ApiFactory.KeyA);
            for (var b = 0; b < batches; b++)
            {
                var batch = NewBatch(25);
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (!await SendAsync(client, batch))
                {
                    Assert.True(DateTime.UtcNow < deadline, "a batch was not acknowledged within 60 s");
                    await Task.Delay(100);
                }
            }
        }

        var first = new ApiFactory(connectionString);
        await RunAsync(first, 10);

        // A silo restart: the API process (and its co-hosted silo) goes away; a new one takes over.
        await first.DisposeAsync();
        await using var second = new ApiFactory(connectionString);
        await RunAsync(second, 10);

        // A Redis crash: nothing is acknowledged while it is down, and the client retries until it is back.
        using (var client = second.ClientFor(ApiFactory.KeyA))
        {
            await killStore();
            var during = NewBatch(25);
            Assert.False(await SendAsync(client, during));
            await restartStore();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!await SendAsync(client, during))
            {
                Assert.True(DateTime.UtcNow < deadline, "the service did not take events again within 60 s of the store's restart");
                await Task.Delay(200);
            }
        }

        await RunAsync(second, 5);

        await using var store = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var logged = (await new RedisClickLog(store, new ServerPolicyBarrier()).ReadAllAsync(ApiFactory.TenantA)).Select(r => r.Event.EventId).ToList();

        Assert.Equal(logged.Count, logged.Distinct().Count());
        Assert.Equal(acknowledged.Order(), logged.Order());
        Assert.Empty(rejected.Intersect(logged));
        Assert.True(acknowledged.Count > 500 && rejected.Count > 20, $"{acknowledged.Count} acknowledged, {rejected.Count} rejected");
    }
}
