using System.Collections.Concurrent;
using System.Security.Cryptography;
using Bonnie.Shared.IO;
using Bonnie.Shared.Storage;
using ZstdSharp;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// Payloads as files named by their SHA-256 under two fan-out levels (<c>ab/cd/abcd…</c>). A compressed file ends in
/// <c>.zst</c>, so a read knows to decompress and gives back the exact bytes; every read checks the hash.
/// Written durably (<see cref="DurableFile"/>): a crash never leaves a partial payload under its name, and the name is on
/// disk before the event that names the payload is committed.
/// </summary>
internal sealed class PayloadDirectory(string root, bool compress) : IPayloadStore
{
    private const string CompressedSuffix = ".zst";

    public string Root { get; } = root;

    // Fan-out directories whose own names are known to be on disk (their parents were fsynced after they existed).
    private readonly ConcurrentDictionary<string, bool> _durableDirectories = new(StringComparer.Ordinal);

    public Task<string> PutAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var sha = Convert.ToHexStringLower(SHA256.HashData(payload.Span));
        if (Locate(sha) is not null)
        {
            return Task.FromResult(sha);
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
        try
        {
            DurableFile.Write(Path.Combine(dir, name), bytes.Span, overwrite: false);
        }
        catch (IOException) when (Locate(sha) is not null)
        {
            // Another writer stored the same bytes meanwhile (either copy is the same content); its name may not be
            // durable yet.
            DurableDirectory.Sync(dir);
        }
        MakeParentsDurable(dir);
        return Task.FromResult(sha);
    }

    // Without this a power cut can leave the event committed (the store fsyncs its commits) and the payload file it
    // names gone with the fan-out directory that holds it: DurableFile made the file's name durable, not the names of
    // directories made for it. Once per directory, as they never go away.
    private void MakeParentsDurable(string dir)
    {
        if (_durableDirectories.ContainsKey(dir))
        {
            return;
        }
        DurableDirectory.Sync(Path.GetDirectoryName(dir)!);
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
