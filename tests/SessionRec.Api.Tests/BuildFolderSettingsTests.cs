namespace SessionRec.Api.Tests;

using Microsoft.Extensions.Configuration;
using SessionRec.Api.Hosting;
using SessionRec.TestSupport;

/// <summary>
/// The service started from a folder without appsettings.json (`dotnet path/to/SessionRec.Api.dll`) reads the one
/// beside its build, in the same place among the sources: what the environment sets still wins.
/// </summary>
public sealed class BuildFolderSettingsTests
{
    [Fact]
    public void WithoutSettingsInTheWorkingFolderTheBuildsSettingsAreReadAndTheEnvironmentStillWins()
    {
        using var working = new TempFolder();
        using var build = new TempFolder();
        File.WriteAllText(Path.Combine(build.Path, "appsettings.json"), """{ "Logging": { "LogLevel": { "Default": "Warning" } }, "Api": { "Name": "build" } }""");

        var configuration = Configuration(working.Path);
        Assert.Null(configuration["Logging:LogLevel:Default"]);

        BuildFolderSettings.AddIfMissing(configuration, working.Path, build.Path);

        Assert.Equal("Warning", configuration["Logging:LogLevel:Default"]);
        Assert.Equal("environment", configuration["Api:Name"]);
    }

    [Fact]
    public void SettingsInTheWorkingFolderAreTheOnesRead()
    {
        using var working = new TempFolder();
        using var build = new TempFolder();
        File.WriteAllText(Path.Combine(working.Path, "appsettings.json"), """{ "Logging": { "LogLevel": { "Default": "Information" } } }""");
        File.WriteAllText(Path.Combine(build.Path, "appsettings.json"), """{ "Logging": { "LogLevel": { "Default": "Warning" } } }""");

        var configuration = Configuration(working.Path);
        BuildFolderSettings.AddIfMissing(configuration, working.Path, build.Path);

        Assert.Equal("Information", configuration["Logging:LogLevel:Default"]);
    }

    // The sources a web application builder starts with, in its order: the working folder's file, then the environment.
    private static ConfigurationManager Configuration(string working)
    {
        var configuration = new ConfigurationManager();
        configuration.SetBasePath(working);
        configuration.AddJsonFile("appsettings.json", optional: true);
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Api:Name"] = "environment" });
        return configuration;
    }
}
