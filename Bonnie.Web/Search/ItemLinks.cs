using System.Text;

namespace Bonnie.Web.Search;

/// <summary>
/// Links to an item's history. Message keys may hold '/', '%' or '&lt;' (<c>mid:&lt;a/b@host&gt;:512</c>), which routing
/// does not round-trip; such a key travels as <c>~</c> + base64url, a plain one (an email id, a folder id) as is.
/// </summary>
internal static class ItemLinks
{
    public static string Message(string key) => "messages/" + Encode(key);

    public static string MessageRaw(string key) => "messages/" + Encode(key) + "/raw";

    public static string Attachment(string key, int index) =>
        "messages/" + Encode(key) + "/attachments/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Folder(string id) => "folders/" + Encode(id);

    public static string User(string login) => "users/" + Encode(login);

    public static string Person(string personId) => "people/" + Encode(personId);

    public static string Event(string id) => "events/" + Encode(id);

    public static string Search(string query) => "search?q=" + Uri.EscapeDataString(query);

    /// <summary>A page of a search's results: its number and the cursor it starts at (none for the first page).</summary>
    public static string Search(string query, int page, string? cursor) => cursor is null
        ? Search(query)
        : Search(query) + "&page=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture) + "&at=" + Uri.EscapeDataString(cursor);

    public static string Encode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length > 0 && value[0] != '~' && value.All(IsPlain)
            ? value
            : "~" + Convert.ToBase64String(Encoding.UTF8.GetBytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The value a segment made by <see cref="Encode"/> stands for; null when it is not one.</summary>
    public static string? Decode(string? segment)
    {
        if (string.IsNullOrEmpty(segment))
        {
            return null;
        }
        if (segment[0] != '~')
        {
            return segment.All(IsPlain) ? segment : null;
        }
        var b64 = segment[1..].Replace('-', '+').Replace('_', '/');
        b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
        var bytes = new byte[b64.Length];
        return Convert.TryFromBase64String(b64, bytes, out var written) ? Encoding.UTF8.GetString(bytes, 0, written) : null;
    }

    private static bool IsPlain(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@' or '+';
}
