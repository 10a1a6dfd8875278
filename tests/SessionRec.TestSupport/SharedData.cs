namespace SessionRec.TestSupport;

/// <summary>Finds ../shared/data (the read-only data sets beside the checkout), from any test's bin folder.</summary>
public static class SharedData
{
    public static string? Find(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }

            dir = dir.Parent;
        }

        return null;
    }
}
