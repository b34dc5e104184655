namespace Bonnie.Shared.IO;

/// <summary>
/// Writes a whole file so that a crash or a power cut leaves the path as it was or holding all of the new content,
/// never part of it, and never loses the new name once this returns: a temporary file beside the target, written
/// and fsynced, renamed into place, then the directory fsynced (<see cref="DurableDirectory"/>).
/// </summary>
public static class DurableFile
{
    /// <param name="path">The file to write; its directory must exist.</param>
    /// <param name="content">The file's whole content.</param>
    /// <param name="overwrite">False: an <see cref="IOException"/> when <paramref name="path"/> exists already (it is left as it was).</param>
    /// <param name="mode">Unix permissions of the new file (ignored on Windows); the process's umask applies when null.</param>
    public static void Write(string path, ReadOnlySpan<byte> content, bool overwrite = true, UnixFileMode? mode = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        // Hidden and unique: concurrent writers of the same path never share one, and listings of the directory's
        // own names (spooled events, payloads) do not see it.
        var temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (mode is { } m && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = m;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
        DurableDirectory.Sync(directory);
    }
}
