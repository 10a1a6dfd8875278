namespace SessionRec.Silo.ClickLog;

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SessionRec.Abstractions.Events;
using SessionRec.ServiceDefaults;
using SessionRec.Silo.Storage;
using StackExchange.Redis;

/// <summary>
/// Reads a stored click-log record back. A record that no longer parses (a store that lost its end, as the eviction at
/// a stop did before 2026-12-03) is skipped and counted (<c>sessionrec.clicklog.unreadable</c>) rather than thrown:
/// thrown, it failed every activation of its user's session grain and every reader that passed it, for good. What it
/// held is lost either way; the counter and the warning say that it was.
/// </summary>
internal static class StoredEvents
{
    // A warning once per record per process (a reader that passes it on every request would fill the log), for at
    // most this many records; the counter counts every skip.
    private const int MaxWarned = 10_000;

    private static readonly ConcurrentDictionary<(string Log, long Sequence), byte> Warned = new();

    public static bool TryRead(RedisValue value, string tag, long sequence, ILogger? logger, [NotNullWhen(true)] out UserEvent? evt)
    {
        try
        {
            evt = JsonSerializer.Deserialize<UserEvent>((byte[])value!, ServiceJson.Options);
        }
        catch (JsonException)
        {
            evt = null;
        }

        if (evt is not null)
        {
            return true;
        }

        Telemetry.ClickLogUnreadable.Add(1);
        if (Warned.Count < MaxWarned && Warned.TryAdd((tag, sequence), 0))
        {
            logger?.LogWarning("Click-log record {Sequence} of {Log} is unreadable (not the JSON of an event): skipped.", sequence, tag);
        }

        return false;
    }
}
