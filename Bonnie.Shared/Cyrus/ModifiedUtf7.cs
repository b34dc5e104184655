using System.Text;

namespace Bonnie.Shared.Cyrus;

/// <summary>
/// IMAP's modified UTF-7 for mailbox names (RFC 3501 5.1.3): printable ASCII as itself ("&amp;" as "&amp;-"), anything
/// else as UTF-16 in modified base64 between "&amp;" and "-". What Cyrus expects from a client that did not enable UTF-8.
/// </summary>
public static class ModifiedUtf7
{
    public static string Encode(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        var pending = new StringBuilder();
        foreach (var c in name)
        {
            if (c is >= '\x20' and <= '\x7e')
            {
                Flush(sb, pending);
                sb.Append(c == '&' ? "&-" : c.ToString());
            }
            else
            {
                pending.Append(c);
            }
        }
        Flush(sb, pending);
        return sb.ToString();
    }

    private static void Flush(StringBuilder sb, StringBuilder pending)
    {
        if (pending.Length == 0)
        {
            return;
        }
        var base64 = Convert.ToBase64String(Encoding.BigEndianUnicode.GetBytes(pending.ToString())).TrimEnd('=').Replace('/', ',');
        sb.Append('&').Append(base64).Append('-');
        pending.Clear();
    }
}
