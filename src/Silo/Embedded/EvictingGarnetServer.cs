namespace SessionRec.Silo.Embedded;

using Garnet;

/// <summary>
/// A Garnet server that can move its whole log out of memory onto its storage tier. Garnet keeps the hybrid log's
/// accessor behind a protected field; this is the one place that reaches it.
/// </summary>
internal sealed class EvictingGarnetServer(string[] args) : GarnetServer(args)
{
    /// <summary>
    /// Flushes every page of the log to its files and drops it from memory, so that the next checkpoint's snapshot of
    /// the in-memory log is empty and a restart reads nothing back into memory (the records stay on disk, read there).
    /// </summary>
    public void EvictLogToDisk() => storeWrapper.store.Log.FlushAndEvict(wait: true);
}
