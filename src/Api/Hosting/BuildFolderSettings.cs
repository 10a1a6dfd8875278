namespace SessionRec.Api.Hosting;

using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

/// <summary>
/// ASP.NET Core reads appsettings.json from the working directory. Started as `dotnet path/to/SessionRec.Api.dll`
/// from another folder, the service ran without its settings: every request was logged at Information (measured:
/// the console logger's thread took a tenth of the service's CPU at one event per request). Then the settings
/// beside the build are read in their place, with the same precedence (environment variables and arguments win).
/// </summary>
public static class BuildFolderSettings
{
    private const string FileName = "appsettings.json";

    public static void AddIfMissing(ConfigurationManager configuration, string contentRoot, string buildFolder)
    {
        if (File.Exists(Path.Combine(contentRoot, FileName)) || !File.Exists(Path.Combine(buildFolder, FileName)))
        {
            return;
        }

        IConfigurationBuilder builder = configuration;
        var at = builder.Sources.ToList().FindIndex(s => s is JsonConfigurationSource { Path: FileName });
        var source = new JsonConfigurationSource
        {
            Path = FileName,
            Optional = true,
            ReloadOnChange = false,
            FileProvider = new PhysicalFileProvider(buildFolder),
        };
        if (at >= 0)
        {
            builder.Sources[at] = source;
        }
        else
        {
            builder.Sources.Insert(0, source);
        }
    }
}
