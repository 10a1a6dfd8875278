namespace SessionRec.Silo.Storage;

using System.Collections.Concurrent;

/// <summary>
/// Whether a record is seen for the first time in this process, for a warning once per unreadable record: a reader
/// that passes it on every request would otherwise fill the log. Remembers at most <paramref name="capacity"/> records
/// (then says no: the counters beside the warnings still count every skip).
/// </summary>
internal sealed class FirstSighting(int capacity = 10_000)
{
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);

    public bool Of(string record) => _seen.Count < capacity && _seen.TryAdd(record, 0);
}
