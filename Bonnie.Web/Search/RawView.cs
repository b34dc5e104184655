using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Bonnie.Web.Search;

internal enum RawKind
{
    Json,
    Text,
    Hex,
}

/// <summary>
/// Raw bytes (a notification, a quarantined input) as text an officer can read: JSON indented, other valid UTF-8 as
/// is, anything else as a hex dump. The result is only ever rendered as text, so markup in it stays inert.
/// </summary>
internal sealed record RawView(RawKind Kind, string Text)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    // Shown as text only (Razor encodes it), so characters need no JSON escaping: an officer reads <a@b> as sent.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static RawView Of(ReadOnlyMemory<byte> raw)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(raw.Span);
        }
        catch (DecoderFallbackException)
        {
            return new RawView(RawKind.Hex, Hex(raw.Span));
        }
        try
        {
            using var document = JsonDocument.Parse(raw);
            return new RawView(RawKind.Json, JsonSerializer.Serialize(document.RootElement, Indented));
        }
        catch (JsonException)
        {
            return new RawView(RawKind.Text, text);
        }
    }

    /// <summary>16 bytes a line: offset, hex, and the printable ASCII beside it.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        for (var offset = 0; offset < bytes.Length; offset += 16)
        {
            var line = bytes.Slice(offset, Math.Min(16, bytes.Length - offset));
            sb.Append(offset.ToString("x8", CultureInfo.InvariantCulture)).Append("  ");
            for (var i = 0; i < 16; i++)
            {
                sb.Append(i < line.Length ? line[i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ");
            }
            sb.Append(' ');
            foreach (var b in line)
            {
                sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
