using System.Globalization;
using Bonnie.Shared.IO;

namespace Bonnie.Dealer.Spool;

/// <summary>
/// Events the broker did not acknowledge, one file each, named so that names sort by arrival:
/// <c>yyyyMMddTHHmmss.fffffffZ-&lt;pid&gt;-&lt;counter&gt;.json</c>. A dealer claims a file by renaming it to
/// <c>&lt;name&gt;.claim-&lt;pid&gt;-&lt;unix seconds&gt;</c> (rename is atomic, so two dealers never send the same
/// file at once), deletes it after the ACK and renames it back otherwise. A claim whose owner died is put back.
/// </summary>
internal sealed class EventSpool(IReadOnlyList<string> directories, TimeProvider time)
{
    public const string UndeliverableFolder = "undeliverable";
    private const string Extension = ".json";
    private const string ClaimMarker = ".claim-";

    // A claim is held for one delivery (at most the timeout); an older one belongs to a process that is gone.
    private static readonly TimeSpan StaleClaimAge = TimeSpan.FromMinutes(10);

    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static int _counter;

    public IReadOnlyList<string> Directories => directories;

    /// <summary>Writes the event durably (temp file, fsync, rename, fsync directory) to the first directory that takes it.</summary>
    /// <exception cref="SpoolUnavailableException">No directory could take it; the message says why for each.</exception>
    public string Store(byte[] payload)
    {
        var name = NewName();
        var failures = new List<string>(directories.Count);
        foreach (var directory in directories)
        {
            try
            {
                return WriteDurably(directory, name, payload);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{directory}: {e.Message}");
            }
        }
        throw new SpoolUnavailableException(string.Join("; ", failures));
    }

    /// <summary>Keeps an event the broker refused in <c>undeliverable/</c> with the reason beside it; never retried.</summary>
    public string StoreUndeliverable(byte[] payload, string reason)
    {
        var name = NewName();
        var failures = new List<string>(directories.Count);
        foreach (var directory in directories)
        {
            try
            {
                var folder = Path.Combine(directory, UndeliverableFolder);
                var path = WriteDurably(folder, name, payload);
                WriteReason(folder, name, reason);
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures.Add($"{directory}: {e.Message}");
            }
        }
        throw new SpoolUnavailableException(string.Join("; ", failures));
    }

    /// <summary>The oldest pending events across all spool directories, oldest first; puts back stale claims first.</summary>
    public IReadOnlyList<SpooledEvent> Pending(int max, out int staleClaimsRecovered)
    {
        staleClaimsRecovered = 0;
        var pending = new List<SpooledEvent>();
        foreach (var directory in directories)
        {
            if (!Directory.Exists(directory))
            {
                continue;
            }
            try
            {
                foreach (var path in Directory.EnumerateFiles(directory))
                {
                    var name = Path.GetFileName(path);
                    if (name.EndsWith(Extension, StringComparison.Ordinal))
                    {
                        pending.Add(new SpooledEvent(directory, name));
                    }
                    else if (TryRecoverStaleClaim(directory, name, out var recovered))
                    {
                        staleClaimsRecovered++;
                        pending.Add(recovered);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An unreadable spool directory only means nothing to drain from it.
            }
        }
        pending.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        if (pending.Count > max)
        {
            pending.RemoveRange(max, pending.Count - max);
        }
        return pending;
    }

    /// <summary>Renames the file to this process's claim name and reads it; false when another dealer got it first.</summary>
    public bool TryClaim(SpooledEvent spooled, out ClaimedEvent? claimed)
    {
        claimed = null;
        var claimPath = spooled.Path + ClaimMarker + Environment.ProcessId.ToString(CultureInfo.InvariantCulture)
            + "-" + time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        try
        {
            // overwrite: true is rename(2); without it .NET uses link+unlink, which two claimers can both win.
            File.Move(spooled.Path, claimPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        try
        {
            claimed = new ClaimedEvent(spooled, claimPath, File.ReadAllBytes(claimPath));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Release(new ClaimedEvent(spooled, claimPath, []));
            return false;
        }
    }

    /// <summary>The broker has it: the file goes. A crash before this line means a duplicate, which the broker drops.</summary>
    public static void Complete(ClaimedEvent claimed) => File.Delete(claimed.ClaimPath);

    /// <summary>Not delivered: back under its original name, so it keeps its place in the order.</summary>
    public static void Release(ClaimedEvent claimed) => File.Move(claimed.ClaimPath, claimed.Event.Path, overwrite: true);

    public static string MoveToUndeliverable(ClaimedEvent claimed, string reason)
    {
        var folder = Path.Combine(claimed.Event.Directory, UndeliverableFolder);
        EnsureDirectory(folder);
        var target = Path.Combine(folder, claimed.Event.Name);
        File.Move(claimed.ClaimPath, target, overwrite: true);
        WriteReason(folder, claimed.Event.Name, reason);
        return target;
    }

    /// <summary>Events in <c>undeliverable/</c> folders, which wait for a person.</summary>
    public int CountUndeliverable()
    {
        var count = 0;
        foreach (var directory in directories)
        {
            var folder = Path.Combine(directory, UndeliverableFolder);
            if (Directory.Exists(folder))
            {
                count += Directory.EnumerateFiles(folder, "*" + Extension).Count();
            }
        }
        return count;
    }

    private string NewName() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss.fffffff'Z'}-{Environment.ProcessId:D10}-{Interlocked.Increment(ref _counter):D4}{Extension}");

    private static string WriteDurably(string directory, string name, byte[] payload)
    {
        EnsureDirectory(directory);
        var target = Path.Combine(directory, name);
        DurableFile.Write(target, payload, overwrite: true, PrivateFile);
        return target;
    }

    private static void WriteReason(string folder, string name, string reason)
    {
        var path = Path.Combine(folder, Path.GetFileNameWithoutExtension(name) + ".reason");
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = PrivateFile,
        });
        stream.Write(System.Text.Encoding.UTF8.GetBytes(reason + "\n"));
        stream.Flush(flushToDisk: true);
    }

    private static void EnsureDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, PrivateDirectory);
        }
    }

    private bool TryRecoverStaleClaim(string directory, string name, out SpooledEvent recovered)
    {
        recovered = null!;
        var marker = name.LastIndexOf(ClaimMarker, StringComparison.Ordinal);
        if (marker <= 0)
        {
            return false;
        }
        var owner = name.AsSpan(marker + ClaimMarker.Length);
        var dash = owner.IndexOf('-');
        if (dash <= 0
            || !int.TryParse(owner[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(owner[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var claimedAt))
        {
            return false;
        }
        var age = time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(claimedAt);
        if (pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}") && age < StaleClaimAge)
        {
            return false;
        }
        var original = new SpooledEvent(directory, name[..marker]);
        try
        {
            File.Move(Path.Combine(directory, name), original.Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // another dealer put it back first
        }
        recovered = original;
        return true;
    }
}
