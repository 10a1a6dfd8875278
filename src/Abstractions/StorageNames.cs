namespace SessionRec.Abstractions;

/// <summary>Names of the Orleans grain storage providers, shared by hosts and tests.</summary>
public static class StorageNames
{
    public const string Sessions = "sessions";
}
