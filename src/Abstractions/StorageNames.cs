namespace SessionRec.Abstractions;

/// <summary>Names of the Orleans grain storage providers, shared by hosts and tests.</summary>
public static class StorageNames
{
    public const string Sessions = "sessions";

    /// <summary>The state name of the per-user knowledge store (in the <see cref="Sessions"/> provider).</summary>
    public const string KnowledgeState = "knowledge";
}
