using System.Collections.Concurrent;
using System.Text;

namespace Bonnie.Shared.Events;

/// <summary>
/// RFC 2047 encoded words (<c>=?UTF-8?Q?Erin_M=C3=BCller?=</c>) in subjects and display names. A word in a charset
/// .NET cannot decode, or with broken base64, is kept as sent: it is still evidence.
/// </summary>
internal static class EncodedWords
{
    private static readonly ConcurrentDictionary<string, Encoding?> Encodings = new(StringComparer.OrdinalIgnoreCase);

    public static string Decode(string text)
    {
        if (!text.Contains("=?", StringComparison.Ordinal))
        {
            return text;
        }
        var output = new StringBuilder(text.Length);
        var pending = new List<byte>();
        Encoding? pendingEncoding = null;
        var afterWord = false;
        var i = 0;
        while (i < text.Length)
        {
            var start = text.IndexOf("=?", i, StringComparison.Ordinal);
            if (start < 0)
            {
                Flush();
                output.Append(text, i, text.Length - i);
                break;
            }
            if (!TryReadWord(text, start, out var encoding, out var end))
            {
                Flush();
                output.Append(text, i, start + 2 - i);
                i = start + 2;
                afterWord = false;
                continue;
            }
            // Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
            var between = text.AsSpan(i, start - i);
            var adjacent = afterWord && between.IsWhiteSpace();
            if (!adjacent || !ReferenceEquals(encoding, pendingEncoding))
            {
                Flush();
            }
            if (!adjacent)
            {
                output.Append(between);
            }
            AppendWordBytes(text.AsSpan(start, end - start), pending);
            pendingEncoding = encoding;
            afterWord = true;
            i = end;
        }
        Flush();
        return output.ToString();

        void Flush()
        {
            if (pendingEncoding is not null && pending.Count > 0)
            {
                output.Append(pendingEncoding.GetString([.. pending]));
            }
            pending.Clear();
            pendingEncoding = null;
        }
    }

    /// <summary>Checks the word's shape and charset; its bytes are decodable when this returns true.</summary>
    private static bool TryReadWord(string text, int start, out Encoding encoding, out int end)
    {
        encoding = null!;
        end = 0;
        var charsetEnd = text.IndexOf('?', start + 2);
        if (charsetEnd < 0 || charsetEnd + 3 >= text.Length || text[charsetEnd + 2] != '?')
        {
            return false;
        }
        var kind = char.ToUpperInvariant(text[charsetEnd + 1]);
        if (kind is not ('B' or 'Q'))
        {
            return false;
        }
        var payloadStart = charsetEnd + 3;
        var close = text.IndexOf("?=", payloadStart, StringComparison.Ordinal);
        if (close < 0)
        {
            return false;
        }
        var payload = text.AsSpan(payloadStart, close - payloadStart);
        if (payload.ContainsAny(' ', '\t', '?'))
        {
            return false;
        }
        var charset = text.AsSpan(start + 2, charsetEnd - start - 2);
        var language = charset.IndexOf('*');
        if (language >= 0)
        {
            charset = charset[..language];
        }
        var found = GetEncoding(charset.ToString());
        if (found is null || (kind == 'B' && !TryBase64(payload, out _)))
        {
            return false;
        }
        encoding = found;
        end = close + 2;
        return true;
    }

    private static void AppendWordBytes(ReadOnlySpan<char> word, List<byte> bytes)
    {
        var charsetEnd = word[2..].IndexOf('?') + 2;
        var kind = char.ToUpperInvariant(word[charsetEnd + 1]);
        var payload = word[(charsetEnd + 3)..^2];
        if (kind == 'B')
        {
            TryBase64(payload, out var decoded);
            bytes.AddRange(decoded);
            return;
        }
        for (var i = 0; i < payload.Length; i++)
        {
            var c = payload[i];
            if (c == '_')
            {
                bytes.Add(0x20);
            }
            else if (c == '=' && i + 2 < payload.Length && char.IsAsciiHexDigit(payload[i + 1]) && char.IsAsciiHexDigit(payload[i + 2]))
            {
                bytes.Add(Convert.ToByte(payload.Slice(i + 1, 2).ToString(), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)c);
            }
        }
    }

    private static bool TryBase64(ReadOnlySpan<char> payload, out byte[] decoded)
    {
        // Some mailers drop the padding; restore it rather than refuse the word.
        var padded = payload.Length % 4 == 0 ? payload.ToString() : payload.ToString() + new string('=', 4 - payload.Length % 4);
        var buffer = new byte[padded.Length / 4 * 3];
        if (Convert.TryFromBase64String(padded, buffer, out var written))
        {
            decoded = buffer[..written];
            return true;
        }
        decoded = [];
        return false;
    }

    private static Encoding? GetEncoding(string charset) => Encodings.GetOrAdd(charset, static name =>
    {
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            // Windows-1252, KOI8-R, ISO-2022-JP... live in the code pages provider, which we ask without
            // registering it process-wide.
            return CodePagesEncodingProvider.Instance.GetEncoding(name);
        }
    });
}
