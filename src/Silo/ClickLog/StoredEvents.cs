namespace SessionRec.Silo.ClickLog;

using System.Diagnostics.CodeAnalysis;
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
    private static readonly FirstSighting Warned = new();

    public static bool TryRead(RedisValue value, string tag, long sequence, ILogger? logger, [NotNullWhen(true)] out UserEvent? evt)
    {
        evt = ServiceJson.TryDeserialize<UserEvent>((byte[])value!);
        if (evt is not null)
        {
            return true;
        }

        Telemetry.ClickLogUnreadable.Add(1);
        if (Warned.Of($"{tag}/{sequence}"))
        {
            logger?.LogWarning("Click-log record {Sequence} of {Log} is unreadable (not the JSON of an event): skipped.", sequence, tag);
        }

        return false;
    }
}
