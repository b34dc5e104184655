using System.Text;

namespace Bonnie.Shared.Events;

/// <summary>IMAP's modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): <c>M&amp;AOQ-rz</c> is <c>März</c>.</summary>
public static class ModifiedUtf7
{
    /// <summary>Decodes <paramref name="text"/>; throws <see cref="FormatException"/> when it is not modified UTF-7.</summary>
    public static string Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryDecode(text, out var decoded) ? decoded : throw new FormatException($"\"{text}\" is not modified UTF-7");
    }

    /// <summary>Decodes <paramref name="text"/>; false when it is not valid modified UTF-7 (then use it as it is).</summary>
    public static bool TryDecode(string text, out string decoded)
    {
        ArgumentNullException.ThrowIfNull(text);
        decoded = text;
        if (!text.Contains('&', StringComparison.Ordinal))
        {
            return true;
        }
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > 0x7e || c < 0x20)
            {
                return false;
            }
            if (c != '&')
            {
                builder.Append(c);
                continue;
            }
            var end = text.IndexOf('-', i + 1);
            if (end < 0)
            {
                return false;
            }
            if (end == i + 1)
            {
                builder.Append('&');
                i = end;
                continue;
            }
            if (!TryDecodeRun(text.AsSpan(i + 1, end - i - 1), builder))
            {
                return false;
            }
            i = end;
        }
        decoded = builder.ToString();
        return true;
    }

    /// <summary>
    /// Encodes a mailbox name for a client that did not enable UTF-8, as Cyrus expects it: printable ASCII as itself
    /// ("&amp;" as "&amp;-"), anything else as UTF-16 in modified base64 between "&amp;" and "-".
    /// </summary>
    public static string Encode(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var builder = new StringBuilder(name.Length + 8);
        var pending = new StringBuilder();
        foreach (var c in name)
        {
            if (c is >= '\x20' and <= '\x7e')
            {
                FlushRun(builder, pending);
                builder.Append(c == '&' ? "&-" : c.ToString());
            }
            else
            {
                pending.Append(c);
            }
        }
        FlushRun(builder, pending);
        return builder.ToString();
    }

    private static void FlushRun(StringBuilder builder, StringBuilder pending)
    {
        if (pending.Length == 0)
        {
            return;
        }
        var base64 = Convert.ToBase64String(Encoding.BigEndianUnicode.GetBytes(pending.ToString())).TrimEnd('=').Replace('/', ',');
        builder.Append('&').Append(base64).Append('-');
        pending.Clear();
    }

    private static bool TryDecodeRun(ReadOnlySpan<char> run, StringBuilder builder)
    {
        // Modified base64: ',' instead of '/', no padding; the bits are UTF-16BE.
        int bits = 0, bitCount = 0;
        char? highSurrogate = null;
        foreach (var c in run)
        {
            int value = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a' + 26,
                >= '0' and <= '9' => c - '0' + 52,
                '+' => 62,
                ',' => 63,
                _ => -1,
            };
            if (value < 0)
            {
                return false;
            }
            bits = (bits << 6) | value;
            bitCount += 6;
            if (bitCount >= 16)
            {
                bitCount -= 16;
                var unit = (char)((bits >> bitCount) & 0xffff);
                if (highSurrogate is { } high)
                {
                    if (!char.IsLowSurrogate(unit))
                    {
                        return false;
                    }
                    builder.Append(high).Append(unit);
                    highSurrogate = null;
                }
                else if (char.IsHighSurrogate(unit))
                {
                    highSurrogate = unit;
                }
                else if (char.IsLowSurrogate(unit))
                {
                    return false;
                }
                else
                {
                    builder.Append(unit);
                }
            }
        }
        // Leftover bits must be zero padding shorter than one base64 digit's worth beyond a UTF-16 unit.
        return highSurrogate is null && bitCount < 6 && (bits & ((1 << bitCount) - 1)) == 0;
    }
}
