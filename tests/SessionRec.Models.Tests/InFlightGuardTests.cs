namespace SessionRec.Models.Tests;

using SessionRec.Models.Serving;

public sealed class InFlightGuardTests
{
    [Fact(Timeout = 30_000)]
    public async Task ClosingWaitsForTheCallInFlightAndRefusesNewOnes()
    {
        var guard = new InFlightGuard();
        var lease = guard.Enter(this);

        var closing = Task.Run(() => guard.Close(TimeSpan.FromSeconds(20)), TestContext.Current.CancellationToken);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(closing.IsCompleted, "Close returned while a call was still running");
        Assert.Throws<ObjectDisposedException>(() => guard.Enter(this));

        lease.Dispose();
        Assert.True(await closing);
        Assert.Throws<ObjectDisposedException>(() => guard.Enter(this));
    }

    [Fact(Timeout = 30_000)]
    public void ACallThatOutlivesTheWaitMakesCloseSayNotToFree()
    {
        var guard = new InFlightGuard();
        using var lease = guard.Enter(this);

        Assert.False(guard.Close(TimeSpan.FromMilliseconds(50)));
    }

    [Fact(Timeout = 30_000)]
    public void AGuardWithNothingInFlightClosesAtOnceAndTwice()
    {
        var guard = new InFlightGuard();
        guard.Enter(this).Dispose();

        Assert.True(guard.Close(TimeSpan.Zero));
        Assert.True(guard.Close(TimeSpan.Zero));
    }
}
