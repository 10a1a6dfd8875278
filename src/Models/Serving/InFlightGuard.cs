namespace SessionRec.Models.Serving;

/// <summary>
/// Keeps native memory alive while calls into it run. A caller holds a <see cref="Lease"/> for the length of a native
/// call; <see cref="Close"/> refuses new calls (they throw <see cref="ObjectDisposedException"/>, which the service's
/// callers already treat as "this model or encoder is gone") and waits for those in flight, so the owner never
/// frees an ONNX Runtime session under a running call — a read of freed memory kills the whole process, not one
/// request. Replaced models are disposed while requests may still use them, and a host that stops disposes its
/// encoders while background work may still encode.
/// </summary>
public sealed class InFlightGuard
{
    // Calls in flight; Closed is added once, so a negative value means closed (and counts what is still running).
    private const int Closed = int.MinValue / 2;
    private int _state;

    /// <summary>A call may run until the lease is disposed.</summary>
    public Lease Enter(object owner)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            ObjectDisposedException.ThrowIf(state < 0, owner);
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                return new Lease(this);
            }
        }
    }

    /// <summary>
    /// Refuses new calls and waits up to <paramref name="wait"/> for those in flight. False when they did not finish:
    /// the owner must then leave its native memory alone (a leak is better than a crash).
    /// </summary>
    public bool Close(TimeSpan wait)
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state < 0)
            {
                break; // closed before
            }

            if (Interlocked.CompareExchange(ref _state, state + Closed, state) == state)
            {
                break;
            }
        }

        var deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        var spin = new SpinWait();
        while (Volatile.Read(ref _state) != Closed)
        {
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }

            spin.SpinOnce(sleep1Threshold: 20);
        }

        return true;
    }

    private void Exit() => Interlocked.Decrement(ref _state);

    public readonly struct Lease(InFlightGuard guard) : IDisposable
    {
        public void Dispose() => guard.Exit();
    }
}
