using System.Collections.Concurrent;
using System.Security.Cryptography;
using Bonnie.Shared.IO;
using Bonnie.Shared.Storage;
using ZstdSharp;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// Payloads as files named by their SHA-256 under two fan-out levels (<c>ab/cd/abcd…</c>). A compressed file ends in
/// <c>.zst</c>, so a read knows to decompress and gives back the exact bytes; every read checks the hash.
/// Written to a temporary file, flushed to disk, then renamed: a crash never leaves a partial payload under its name.
/// The rename is made durable too (the directory fsynced) before the event that names the payload is committed.
/// </summary>
internal sealed class PayloadDirectory(string root, bool compress) : IPayloadStore
{
    private const string CompressedSuffix = ".zst";

    public string Root { get; } = root;

    // Fan-out directories whose own names are known to be on disk (their parents were fsynced after they existed).
    private readonly ConcurrentDictionary<string, bool> _durableDirectories = new(StringComparer.Ordinal);

    public async Task<string> PutAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(payload.Span));
        if (Locate(sha) is not null)
        {
            return sha;
        }
        var dir = DirectoryFor(sha);
        Directory.CreateDirectory(dir);
        var bytes = payload;
        var name = sha;
        if (compress)
        {
            using var compressor = new Compressor(3);
            var packed = compressor.Wrap(payload.Span).ToArray();
            if (packed.Length < payload.Length)
            {
                bytes = packed;
                name = sha + CompressedSuffix;
            }
        }
        var temp = Path.Combine(dir, "." + name + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await file.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            // Another writer may have stored the same bytes meanwhile; either copy is the same content.
            File.Move(temp, Path.Combine(dir, name), overwrite: false);
            MakeNamesDurable(dir);
        }
        catch (IOException) when (Locate(sha) is not null)
        {
            // The other writer may not have made its name durable yet.
            MakeNamesDurable(dir);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
        return sha;
    }

    // Without this a power cut can leave the event committed (the store fsyncs its commits) and the payload file it
    // names gone: the data was fsynced, its directory entry was not. A fan-out directory made by this call must itself
    // be named durably in its parent, and so on up to the root, once.
    private void MakeNamesDurable(string dir)
    {
        DurableDirectory.Sync(dir);
        if (_durableDirectories.ContainsKey(dir))
        {
            return;
        }
        var middle = Path.GetDirectoryName(dir)!;
        DurableDirectory.Sync(middle);
        DurableDirectory.Sync(Root);
        _durableDirectories.TryAdd(dir, true);
    }

    public async Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default)
    {
        if (!IsSha256(sha256))
        {
            return null;
        }
        var path = Locate(sha256);
        if (path is null)
        {
            return null;
        }
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (path.EndsWith(CompressedSuffix, StringComparison.Ordinal))
        {
            using var decompressor = new Decompressor();
            bytes = decompressor.Unwrap(bytes).ToArray();
        }
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"The payload file {path} does not hash to its name (it hashes to {actual}): it was changed or damaged.");
        }
        return bytes;
    }

    public Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default)
        => Task.FromResult(IsSha256(sha256) && Locate(sha256) is not null);

    private string DirectoryFor(string sha) => Path.Combine(Root, sha[..2], sha[2..4]);

    private string? Locate(string sha)
    {
        var plain = Path.Combine(DirectoryFor(sha), sha);
        if (File.Exists(plain))
        {
            return plain;
        }
        var packed = plain + CompressedSuffix;
        return File.Exists(packed) ? packed : null;
    }

    private static bool IsSha256(string s) => s.Length == 64 && s.All(Uri.IsHexDigit);
}
