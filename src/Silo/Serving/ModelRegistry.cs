namespace SessionRec.Silo.Serving;

using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionRec.Models.Serving;
using SessionRec.Abstractions.Recommendations;
using SessionRec.Silo.Hosting;

/// <summary>A model version as listed to operators.</summary>
public sealed record ModelVersionInfo(string Version, string? Kind, DateTimeOffset? Created, TrainingData? Training, IReadOnlyDictionary<string, double>? Metrics, string? Error);

/// <summary>
/// Which version a tenant serves (null: the baseline), the versions a rollback returns to (newest first; the baseline
/// by its name), and every activation and rollback (newest first), as stored in active.json.
/// </summary>
public sealed record ActivePointer(string? Active, IReadOnlyList<string> History, IReadOnlyList<ModelActivation>? Activations = null);

/// <summary>One change of the serving version: what was served from then on, when, and how ("activate", "rollback").</summary>
public sealed record ModelActivation(string Version, DateTimeOffset At, string Action);

/// <summary>
/// The model versions of each tenant (folders under <see cref="ModelOptions.Path"/>/&lt;tenant&gt;/) and the one
/// each serves. A version is loaded and checked before it becomes active, so a bad folder is refused and the
/// previous model keeps serving. The pointer lives in active.json beside the versions: every silo that shares the
/// folder re-reads it every <see cref="ModelOptions.PollInterval"/>, so an activation reaches the whole cluster.
/// </summary>
public sealed partial class ModelRegistry : IDisposable
{
    private const string PointerFile = "active.json";
    private const int MaxHistory = 20;
    private const int MaxActivations = 50;
    private static readonly TimeSpan DisposeGrace = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, TenantModels> _tenants = new(StringComparer.Ordinal);
    private readonly ModelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelRegistry> _logger;

    public ModelRegistry(IOptions<ModelOptions> options, IOptions<StorageOptions> storage, TimeProvider time, ILogger<ModelRegistry> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        Root = System.IO.Path.GetFullPath(_options.Path ?? System.IO.Path.Combine(storage.Value.DataPath, "models"));
    }

    public string Root { get; }

    public string TenantFolder(string tenant) => System.IO.Path.Combine(Root, tenant);

    /// <summary>The tenant's serving model, or null for the baseline. Cheap: re-reads the pointer at most once per poll interval.</summary>
    public OnnxRecommenderModel? Active(string tenant)
    {
        var state = _tenants.GetOrAdd(tenant, _ => new TenantModels());
        var now = _time.GetUtcNow();
        if (now - state.CheckedAt >= _options.PollInterval)
        {
            lock (state)
            {
                if (now - state.CheckedAt >= _options.PollInterval)
                {
                    state.CheckedAt = now;
                    Refresh(tenant, state);
                }
            }
        }

        return state.Model;
    }

    public ActivePointer Pointer(string tenant) => ReadPointer(tenant) ?? new ActivePointer(null, []);

    /// <summary>The tenants that serve a model (a pointer naming a version), the most recently changed pointer first; at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<string> TenantsServingModels(int limit)
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        return [.. new DirectoryInfo(Root).EnumerateDirectories()
            .Select(dir => (Tenant: dir.Name, Pointer: new FileInfo(System.IO.Path.Combine(dir.FullName, PointerFile))))
            .Where(t => t.Pointer.Exists)
            .OrderByDescending(t => t.Pointer.LastWriteTimeUtc)
            .Where(t => ReadPointer(t.Tenant)?.Active is not null)
            .Take(limit)
            .Select(t => t.Tenant)];
    }

    public IReadOnlyList<ModelVersionInfo> List(string tenant)
    {
        var folder = TenantFolder(tenant);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var result = new List<ModelVersionInfo>();
        foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var version = System.IO.Path.GetFileName(dir);
            try
            {
                var manifest = ModelManifest.Parse(File.ReadAllText(System.IO.Path.Combine(dir, ModelContract.ManifestFile)));
                result.Add(new ModelVersionInfo(version, manifest.Kind, manifest.Created, manifest.Training, manifest.Metrics, null));
            }
            catch (Exception e) when (e is IOException or JsonException or InvalidDataException or UnauthorizedAccessException)
            {
                result.Add(new ModelVersionInfo(version, null, null, null, null, e.Message));
            }
        }

        return result;
    }

    /// <summary>
    /// Loads and checks <paramref name="version"/>, then makes it the tenant's serving model (null: back to the
    /// baseline). Throws <see cref="InvalidDataException"/> when the version is missing or refused; nothing changes then.
    /// </summary>
    public OnnxRecommenderModel? Activate(string tenant, string? version) => Serve(tenant, _ => version, rollback: false);

    /// <summary>Serves the version that was served before the current one (the baseline included).</summary>
    public OnnxRecommenderModel? Rollback(string tenant) => Serve(
        tenant,
        pointer => pointer.History.Count == 0
            ? throw new InvalidDataException("There is no earlier model version to roll back to.")
            : pointer.History[0] == RecommendationLimits.BaselineModelVersion ? null : pointer.History[0],
        rollback: true);

    private OnnxRecommenderModel? Serve(string tenant, Func<ActivePointer, string?> choose, bool rollback)
    {
        var state = _tenants.GetOrAdd(tenant, _ => new TenantModels());
        lock (state)
        {
            var pointer = Pointer(tenant);
            var version = choose(pointer);
            OnnxRecommenderModel? model = null;
            if (version is not null)
            {
                if (!ModelContract.IsValidVersion(version) || !Directory.Exists(System.IO.Path.Combine(TenantFolder(tenant), version)))
                {
                    throw new InvalidDataException($"There is no model version '{version}' for this tenant.");
                }

                model = OnnxRecommenderModel.Load(System.IO.Path.Combine(TenantFolder(tenant), version));
                if (model.Version != version)
                {
                    model.Dispose();
                    throw new InvalidDataException($"Folder '{version}' holds a manifest for version '{model.Version}'.");
                }
            }

            // A rollback takes the newest entry off the history; an activation puts what served until now on it.
            var current = pointer.Active ?? RecommendationLimits.BaselineModelVersion;
            var next = version ?? RecommendationLimits.BaselineModelVersion;
            var history = rollback ? pointer.History.Skip(1) : current == next ? pointer.History : pointer.History.Prepend(current);
            var now = _time.GetUtcNow();
            WritePointer(tenant, new ActivePointer(
                version,
                [.. history.Where(h => h != next).Distinct(StringComparer.Ordinal).Take(MaxHistory)],
                [new ModelActivation(next, now, rollback ? "rollback" : "activate"), .. (pointer.Activations ?? []).Take(MaxActivations - 1)]));
            Swap(state, model);
            state.CheckedAt = now;
            LogActivated(_logger, tenant, next);
            return model;
        }
    }

    public void Dispose()
    {
        foreach (var state in _tenants.Values)
        {
            state.Model?.Dispose();
        }
    }

    private void Refresh(string tenant, TenantModels state)
    {
        var pointer = ReadPointer(tenant);
        if (pointer is null || pointer.Active == state.Model?.Version)
        {
            return;
        }

        if (pointer.Active is null)
        {
            Swap(state, null);
            return;
        }

        if (pointer.Active == state.FailedVersion)
        {
            return;
        }

        try
        {
            Swap(state, OnnxRecommenderModel.Load(System.IO.Path.Combine(TenantFolder(tenant), pointer.Active)));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            // Keep serving what we have; say why once per version.
            state.FailedVersion = pointer.Active;
            LogLoadFailed(_logger, e, tenant, pointer.Active);
        }
    }

    private void Swap(TenantModels state, OnnxRecommenderModel? model)
    {
        var previous = state.Model;
        state.Model = model;
        state.FailedVersion = null;
        if (previous is not null && !ReferenceEquals(previous, model))
        {
            // Requests already holding the old model finish with it.
            _ = Task.Delay(DisposeGrace, _time).ContinueWith(_ => previous.Dispose(), TaskScheduler.Default);
        }
    }

    /// <summary>The tenant's pointer; empty when there is none, null when it cannot be read (then nothing changes).</summary>
    private ActivePointer? ReadPointer(string tenant)
    {
        var path = System.IO.Path.Combine(TenantFolder(tenant), PointerFile);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ActivePointer>(File.ReadAllText(path), ModelManifest.Json) : new ActivePointer(null, []);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            LogPointerUnreadable(_logger, e, path);
            return null;
        }
    }

    private void WritePointer(string tenant, ActivePointer pointer)
    {
        var folder = TenantFolder(tenant);
        Directory.CreateDirectory(folder);
        var temp = System.IO.Path.Combine(folder, $".{PointerFile}.{Guid.NewGuid():N}");
        File.WriteAllText(temp, JsonSerializer.Serialize(pointer, ModelManifest.Json));
        File.Move(temp, System.IO.Path.Combine(folder, PointerFile), overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant} now serves model {Version}")]
    private static partial void LogActivated(ILogger logger, string tenant, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {Tenant}: model {Version} is refused; the previous model keeps serving")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string tenant, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model pointer {Path} is unreadable; the current model keeps serving")]
    private static partial void LogPointerUnreadable(ILogger logger, Exception exception, string path);

    private sealed class TenantModels
    {
        public OnnxRecommenderModel? Model;
        public string? FailedVersion;
        public DateTimeOffset CheckedAt = DateTimeOffset.MinValue;
    }
}
