namespace SessionRec.Bench;

/// <summary>The benchmark tools' command lines: <c>--name value</c> pairs. Linked into each benchmark project.</summary>
public static class BenchOptions
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        return options;
    }
}
