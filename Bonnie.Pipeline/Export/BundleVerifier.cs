using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Bonnie.Pipeline.Export;

/// <summary>
/// Checks an evidence bundle offline against its own <c>manifest.sha256</c>: every file listed must be there with
/// the same SHA-256, and no file may be there that is not listed. Run as <c>dotnet Bonnie.Web.dll verify-bundle &lt;zip&gt;</c>.
/// </summary>
public static class BundleVerifier
{
    public const string Command = "verify-bundle";

    /// <summary>
    /// When <paramref name="args"/> ask for <c>verify-bundle</c>, verifies and returns the exit code (0 intact, 1 not,
    /// 2 usage or unreadable); otherwise null, and the host starts as usual.
    /// </summary>
    public static int? RunCommandLine(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || !string.Equals(args[0], Command, StringComparison.Ordinal))
        {
            return null;
        }
        output ??= Console.Out;
        error ??= Console.Error;
        if (args.Length != 2)
        {
            error.WriteLine("usage: dotnet Bonnie.Web.dll verify-bundle <bundle.zip>");
            return 2;
        }
        BundleVerification result;
        try
        {
            result = Verify(args[1]);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            error.WriteLine($"FAILED: {args[1]} cannot be read as a ZIP: {ex.Message}");
            return 2;
        }
        foreach (var p in result.Problems)
        {
            output.WriteLine($"{p.Kind.ToUpperInvariant()} {p.Path}: {p.Detail}");
        }
        if (result.IsIntact)
        {
            output.WriteLine($"OK: {result.FilesChecked} file(s) match {EvidenceBundleWriter.ManifestName}.");
        }
        else
        {
            output.WriteLine($"FAILED: {result.Problems.Count} problem(s); {result.FilesChecked} file(s) checked.");
        }
        if (result.ManifestSha256 is { } sha)
        {
            output.WriteLine($"Manifest SHA-256: {sha} (compare with the officers' audit record of this export)");
        }
        return result.IsIntact ? 0 : 1;
    }

    public static BundleVerification Verify(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var problems = new List<BundleProblem>();
        var entries = zip.Entries.Where(e => !e.FullName.EndsWith('/')).ToList();
        var manifestEntry = entries.FirstOrDefault(e => e.FullName == EvidenceBundleWriter.ManifestName);
        if (manifestEntry is null)
        {
            problems.Add(new BundleProblem("missing", EvidenceBundleWriter.ManifestName, "the bundle has no manifest; nothing in it can be checked"));
            return new BundleVerification(false, 0, null, problems);
        }
        byte[] manifestBytes;
        using (var m = manifestEntry.Open())
        using (var copy = new MemoryStream())
        {
            m.CopyTo(copy);
            manifestBytes = copy.ToArray();
        }
        var manifestSha = Convert.ToHexStringLower(SHA256.HashData(manifestBytes));
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in Encoding.UTF8.GetString(manifestBytes).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // sha256sum format: 64 hex digits, two spaces (or space and '*'), the path.
            if (line.Length < 67 || line[64] != ' ' || !line[..64].All(Uri.IsHexDigit))
            {
                problems.Add(new BundleProblem("changed", EvidenceBundleWriter.ManifestName, $"unreadable line '{line}'"));
                continue;
            }
            expected[line[66..]] = line[..64].ToLowerInvariant();
        }
        var checkedCount = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry == manifestEntry)
            {
                continue;
            }
            if (!seen.Add(entry.FullName))
            {
                problems.Add(new BundleProblem("added", entry.FullName, "a second file of this name"));
                continue;
            }
            if (!expected.TryGetValue(entry.FullName, out var want))
            {
                problems.Add(new BundleProblem("added", entry.FullName, "not listed in the manifest"));
                continue;
            }
            checkedCount++;
            string actual;
            try
            {
                using var s = entry.Open();
                actual = Convert.ToHexStringLower(SHA256.HashData(s));
            }
            catch (InvalidDataException ex)
            {
                problems.Add(new BundleProblem("changed", entry.FullName, $"cannot be read ({ex.Message})"));
                continue;
            }
            if (!string.Equals(actual, want, StringComparison.Ordinal))
            {
                problems.Add(new BundleProblem("changed", entry.FullName, $"SHA-256 is {actual}, the manifest says {want}"));
            }
        }
        foreach (var path in expected.Keys.Where(p => !seen.Contains(p)))
        {
            problems.Add(new BundleProblem("missing", path, "listed in the manifest but not in the bundle"));
        }
        return new BundleVerification(problems.Count == 0, checkedCount, manifestSha, problems);
    }
}
