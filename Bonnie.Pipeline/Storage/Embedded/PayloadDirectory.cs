using System.Security.Cryptography;
using Bonnie.Shared.Storage;
using ZstdSharp;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// Payloads as files named by their SHA-256 under two fan-out levels (<c>ab/cd/abcd…</c>). A compressed file ends in
/// <c>.zst</c>, so a read knows to decompress and gives back the exact bytes; every read checks the hash.
/// Written to a temporary file, flushed to disk, then renamed: a crash never leaves a partial payload under its name.
/// </summary>
internal sealed class PayloadDirectory(string root, bool compress) : IPayloadStore
{
    private const string CompressedSuffix = ".zst";

    public string Root { get; } = root;

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
        }
        catch (IOException) when (Locate(sha) is not null)
        {
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
