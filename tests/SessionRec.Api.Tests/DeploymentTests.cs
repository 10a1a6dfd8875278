namespace SessionRec.Api.Tests;

using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SessionRec.Silo.Hosting;

/// <summary>
/// deploy/ cannot be run here (no container engine), so what can drift from the code is checked against it: every
/// setting the compose file and the Helm chart set is one the code reads, the probes point at routes the API maps,
/// the ports agree, and each Dockerfile's restore layer copies every project its entry project needs.
/// </summary>
public sealed partial class DeploymentTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static readonly string Root = FindRoot();

    [Theory]
    [InlineData("deploy/compose.yaml")]
    [InlineData("deploy/helm/sessionrec/templates/api.yaml")]
    [InlineData("deploy/helm/sessionrec/templates/silo.yaml")]
    public void EverySettingTheDeploymentSetsIsOneTheCodeReads(string file)
    {
        var names = EnvironmentName().Matches(File.ReadAllText(Path.Combine(Root, file))).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(names);
        var unknown = names.Where(n => !Reads(n.Split("__"))).ToList();
        Assert.True(unknown.Count == 0, $"{file} sets settings no options class reads: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void AMisspelledSettingIsCaught()
    {
        Assert.True(Reads(["Orleans", "ClusterId"]));
        Assert.True(Reads(["Auth", "Keys", "0", "Tenant"]));
        Assert.False(Reads(["Orleans", "ClusterID2"]));
        Assert.False(Reads(["Modles", "Path"]));
        Assert.False(Reads(["ConnectionStrings", "Redis2"]));
    }

    [Fact(Timeout = 120_000)]
    public void TheProbesPointAtRoutesTheApiMaps()
    {
        var routes = api.Factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).ToHashSet(StringComparer.Ordinal);
        var chart = File.ReadAllText(Path.Combine(Root, "deploy/helm/sessionrec/templates/api.yaml"));
        var probes = ProbePath().Matches(chart).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(["/health/ready", "/health/live"], probes);
        Assert.All(probes, p => Assert.Contains(p, routes));
    }

    [Fact]
    public void ThePortsAgree()
    {
        var values = File.ReadAllText(Path.Combine(Root, "deploy/helm/sessionrec/values.yaml"));
        var apiPort = Regex.Match(values, @"(?m)^\s+port:\s*(\d+)").Groups[1].Value;
        Assert.Contains($"Urls=http://0.0.0.0:{apiPort}", File.ReadAllText(Path.Combine(Root, "deploy/Dockerfile.api")), StringComparison.Ordinal);
        Assert.Contains($":{apiPort}\"]", File.ReadAllText(Path.Combine(Root, "deploy/compose.yaml")), StringComparison.Ordinal);

        var silo = File.ReadAllText(Path.Combine(Root, "deploy/helm/sessionrec/templates/silo.yaml"));
        Assert.Contains($"containerPort: {OrleansSettings.DefaultSiloPort}", silo, StringComparison.Ordinal);
        Assert.Contains($"containerPort: {OrleansSettings.DefaultGatewayPort}", silo, StringComparison.Ordinal);
        Assert.Contains($"EXPOSE {OrleansSettings.DefaultSiloPort} {OrleansSettings.DefaultGatewayPort}", File.ReadAllText(Path.Combine(Root, "deploy/Dockerfile.silo")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deploy/Dockerfile.api", "src/Api/SessionRec.Api.csproj")]
    [InlineData("deploy/Dockerfile.silo", "src/Silo/SessionRec.Silo.csproj")]
    public void EachDockerfileRestoresEveryProjectItsEntryProjectNeeds(string dockerfile, string entry)
    {
        var text = File.ReadAllText(Path.Combine(Root, dockerfile));
        var restoreLayer = text[..text.IndexOf("RUN dotnet restore", StringComparison.Ordinal)];
        var copied = CopiedProject().Matches(restoreLayer).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var needed = Closure(entry).Select(p => Path.GetDirectoryName(p)!.Replace('\\', '/')).ToList();

        Assert.True(needed.Count >= 3, $"{entry} references only {needed.Count} projects?");
        Assert.All(needed, folder => Assert.True(copied.Contains(folder), $"{dockerfile} does not copy {folder}/*.csproj before restoring {entry}"));
    }

    /// <summary>Whether a setting path (section, then properties; list indexes as numbers) names something the code reads.</summary>
    private static bool Reads(string[] path)
    {
        if (path[0] == "ConnectionStrings")
        {
            return path is [_, OrleansSettings.RedisConnectionName];
        }

        return SectionTypes().TryGetValue(path[0], out var types) && types.Any(type => Binds(type, path.AsSpan(1)));
    }

    private static bool Binds(Type type, ReadOnlySpan<string> path)
    {
        if (path.IsEmpty)
        {
            return true;
        }

        if (int.TryParse(path[0], out _))
        {
            var element = type.IsArray ? type.GetElementType() : type.GetGenericArguments().LastOrDefault();
            return element is not null && Binds(element, path[1..]);
        }

        // The binder sets a settable property, and fills a collection or object a getter returns.
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is not null && (property.CanWrite || path.Length > 1) && Binds(property.PropertyType, path[1..]);
    }

    /// <summary>Every options class of the service by its section (a class with a SectionName constant).</summary>
    private static Dictionary<string, List<Type>> SectionTypes() =>
        new[] { typeof(Program).Assembly, typeof(OrleansSettings).Assembly, typeof(ServiceDefaults.Telemetry).Assembly }
            .SelectMany(a => a.GetTypes())
            .Select(t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Field is { IsLiteral: true })
            .GroupBy(x => (string)x.Field!.GetRawConstantValue()!)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Type).ToList());

    private static IEnumerable<string> Closure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([project]);
        while (queue.TryDequeue(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            var folder = Path.GetDirectoryName(current)!;
            foreach (var reference in XDocument.Load(Path.Combine(Root, current)).Descendants("ProjectReference"))
            {
                var relative = Path.GetRelativePath(Root, Path.GetFullPath(Path.Combine(Root, folder, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
                queue.Enqueue(relative.Replace('\\', '/'));
            }
        }

        return seen;
    }

    private static string FindRoot() => SessionRec.TestSupport.Repository.Root;

    // Environment variables of .NET configuration: Section__Key[__...], in compose maps, lists and comments alike.
    [GeneratedRegex(@"\b[A-Z][A-Za-z0-9]*(?:__[A-Za-z0-9]+)+\b")]
    private static partial Regex EnvironmentName();

    [GeneratedRegex(@"httpGet:\s*\{\s*path:\s*([^,\s]+)")]
    private static partial Regex ProbePath();

    [GeneratedRegex(@"COPY (src/[A-Za-z]+)/\*\.csproj")]
    private static partial Regex CopiedProject();
}
