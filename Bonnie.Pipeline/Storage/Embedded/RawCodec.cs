using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// How a stored notification's bytes are kept: each is zstd-compressed on its own against a dictionary of typical
/// Cyrus notifications, which shrinks a 700-byte notification about five-fold where compressing it alone does not
/// halve it: a smaller store, and fewer pages for each commit to write. The dictionary's bytes are kept in the
/// database itself (<c>raw_dictionaries</c>), so a store can be read without this build of Bonnie, and a
/// notification is kept as it came when compression would not make it smaller. Codec 0 is "as received".
/// </summary>
internal sealed class RawCodec : IDisposable
{
    public const long Plain = 0;

    private readonly Dictionary<long, byte[]> _dictionaries;
    private readonly ThreadLocal<Compressor> _compressors;
    private readonly ThreadLocal<Dictionary<long, Decompressor>> _decompressors = new(() => [], trackAllValues: true);

    private RawCodec(Dictionary<long, byte[]> dictionaries, long current)
    {
        _dictionaries = dictionaries;
        Current = current;
        _compressors = new ThreadLocal<Compressor>(() =>
        {
            var compressor = new Compressor(3);
            // ZSTD_c_forceAttachDict = ZSTD_dictForceAttach: refer to the dictionary's tables rather than copy them
            // into the context for every frame; the copy cost more than compressing a notification.
            compressor.SetParameter(ZSTD_cParameter.ZSTD_c_experimentalParam4, 1);
            compressor.LoadDictionary(dictionaries[current]);
            return compressor;
        }, trackAllValues: true);
    }

    /// <summary>The codec new notifications are written with (the id of this build's dictionary in the store).</summary>
    public long Current { get; }

    /// <summary>Registers this build's dictionary in the store (once) and loads every dictionary the store holds.</summary>
    public static RawCodec Open(SqliteConnection writer)
    {
        var dictionary = Embedded();
        var sha = Convert.ToHexStringLower(SHA256.HashData(dictionary));
        using (var add = writer.CreateCommand())
        {
            add.CommandText = """
                INSERT INTO raw_dictionaries(sha256, bytes) SELECT $sha, $bytes
                WHERE NOT EXISTS (SELECT 1 FROM raw_dictionaries WHERE sha256 = $sha)
                """;
            add.Parameters.AddWithValue("$sha", sha);
            add.Parameters.AddWithValue("$bytes", dictionary);
            add.ExecuteNonQuery();
        }
        var all = new Dictionary<long, byte[]>();
        long current = -1;
        using (var read = writer.CreateCommand())
        {
            read.CommandText = "SELECT id, sha256, bytes FROM raw_dictionaries";
            using var r = read.ExecuteReader();
            while (r.Read())
            {
                all[r.GetInt64(0)] = (byte[])r.GetValue(2);
                if (r.GetString(1) == sha)
                {
                    current = r.GetInt64(0);
                }
            }
        }
        return new RawCodec(all, current);
    }

    /// <summary>Bytes to store and their codec. Any thread (the commit compresses a batch on every core).</summary>
    public (ReadOnlyMemory<byte> Bytes, long Codec) Encode(ReadOnlyMemory<byte> raw)
    {
        var packed = _compressors.Value!.Wrap(raw.Span);
        return packed.Length < raw.Length ? (packed.ToArray(), Current) : (raw, Plain);
    }

    /// <summary>The notification exactly as received. Any thread.</summary>
    public byte[] Decode(byte[] stored, long codec)
    {
        if (codec == Plain)
        {
            return stored;
        }
        if (!_dictionaries.TryGetValue(codec, out var dictionary))
        {
            throw new InvalidDataException($"A stored notification uses compression dictionary {codec}, which this store does not hold.");
        }
        var cache = _decompressors.Value!;
        if (!cache.TryGetValue(codec, out var decompressor))
        {
            decompressor = new Decompressor();
            decompressor.LoadDictionary(dictionary);
            cache[codec] = decompressor;
        }
        return decompressor.Unwrap(stored).ToArray();
    }

    private static byte[] Embedded()
    {
        using var stream = typeof(RawCodec).Assembly.GetManifestResourceStream("Bonnie.NotificationDictionary")
            ?? throw new InvalidOperationException("The notification dictionary is missing from Bonnie.Pipeline.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private bool _disposed;

    // The store may be disposed twice (Dispose and DisposeAsync).
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var c in _compressors.Values)
        {
            c.Dispose();
        }
        _compressors.Dispose();
        foreach (var perThread in _decompressors.Values)
        {
            foreach (var d in perThread.Values)
            {
                d.Dispose();
            }
        }
        _decompressors.Dispose();
    }
}
