namespace SessionRec.KnowledgeStore.Text;

using System.Collections.Concurrent;

/// <summary>
/// The words of texts that recur across requests and users (entity names, offered queries), made once and shared by
/// every caller. Bounded: past <c>maxTexts</c> texts a caller gets words made for it alone. Only texts that are not a
/// user's own may enter (a memo outlives any one user's erasure).
/// </summary>
internal sealed class WordsMemo(Func<string, string[]> words, int maxTexts)
{
    private readonly ConcurrentDictionary<string, string[]> _shared = new(StringComparer.Ordinal);

    public string[] Of(string text)
    {
        if (_shared.TryGetValue(text, out var known))
        {
            return known;
        }

        var made = words(text);
        if (_shared.Count < maxTexts)
        {
            _shared.TryAdd(text, made);
        }

        return made;
    }
}
