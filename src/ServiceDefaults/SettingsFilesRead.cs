namespace SessionRec.ServiceDefaults;

/// <summary>
/// A host's settings files are read once, at start. The default builders watch them for changes with a recursive
/// watch on the content root, which is the working folder: started as the quick start says, that is the repository
/// with the data folder inside it, and every write of the embedded store's files woke the watcher (measured: 1,762
/// inotify watches on a working folder of /tmp; under load, 1.3% of the service's CPU samples in the watcher and 0.5%
/// in the kernel's inotify). Nothing here re-reads its options on a change, so a watch bought nothing. An operator who
/// wants it passes <c>--hostBuilder:reloadConfigOnChange=true</c> (a later argument wins).
/// </summary>
public static class SettingsFilesRead
{
    public const string NotWatched = "--hostBuilder:reloadConfigOnChange=false";

    /// <summary>The host's arguments with the settings files read once, before the caller's own arguments.</summary>
    public static string[] Once(string[] args) => [NotWatched, .. args];
}
