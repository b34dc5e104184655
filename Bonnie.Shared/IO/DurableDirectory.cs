using System.Runtime.InteropServices;

namespace Bonnie.Shared.IO;

/// <summary>
/// Makes the names in a directory durable. A file fsynced and then renamed into place can still lose its name to a
/// power cut until the directory itself is fsynced; .NET cannot open a directory as a stream, so this goes to libc.
/// </summary>
public static partial class DurableDirectory
{
    /// <summary>Fsyncs <paramref name="directory"/>; throws <see cref="IOException"/> when that fails.</summary>
    public static void Sync(string directory)
    {
        // Windows has no directory fsync (NTFS journals renames); the product runs on Linux.
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"cannot sync directory {directory} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
