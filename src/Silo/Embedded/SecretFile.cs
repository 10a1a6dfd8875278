namespace SessionRec.Silo.Embedded;

/// <summary>Secrets the embedded default keeps in its data folder: made once, readable by their owner only.</summary>
public static class SecretFile
{
    public static string ReadOrCreate(string file, Func<string> create)
    {
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var writer = new StreamWriter(file, System.Text.Encoding.ASCII, options);
            writer.Write(create());
        }

        return File.ReadAllText(file).Trim();
    }
}
