using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Bonnie.Shared.Events;

/// <summary>
/// A mailbox named by an event's <c>uri</c> (<c>imap://server/user/alice/Archive%40example.org;UIDVALIDITY=1/;UID=7</c>),
/// in both dialects: Cyrus 3.x names the mailbox in its admin form; Cyrus 2.5 names it as its owner sees it, with
/// the owner in the authority (<c>imap://alice@example.org@server/INBOX/Archive</c>).
/// </summary>
public sealed record MailboxUri
{
    private const string Scheme = "imap://";

    public required string Server { get; init; }
    /// <summary>
    /// Admin form: <c>user/alice/Archive@example.org</c>, <c>user/alice@example.org</c>, <c>shared/Team@example.org</c>.
    /// Percent-decoded but otherwise as sent (a modified UTF-7 name stays modified UTF-7). For the 2.5 dialect it is
    /// built from the owner and the owner's view.
    /// </summary>
    public required string Name { get; init; }
    /// <summary>The owning user (<c>alice@example.org</c>); null for a shared folder.</summary>
    public string? Owner { get; init; }
    /// <summary>
    /// The folder as its owner sees it: <c>INBOX</c>, <c>INBOX/Archive</c>; for shared folders the path without the
    /// domain. Modified UTF-7 is decoded (<c>INBOX/M&amp;AOQ-rz</c> reads <c>INBOX/März</c>).
    /// </summary>
    public required string FolderPath { get; init; }
    public bool IsShared => Owner is null;
    public uint? UidValidity { get; init; }
    public uint? Uid { get; init; }
    /// <summary>The URI exactly as sent.</summary>
    public required string Original { get; init; }

    /// <summary>
    /// Reads an IMAP URL naming a mailbox. Throws <see cref="MailboxUriFormatException"/> naming what is wrong,
    /// also when the URL names only a server (<c>imap://imap.example.org</c>).
    /// </summary>
    public static MailboxUri Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!TryParse(uri, out var mailbox, out var error))
        {
            throw new MailboxUriFormatException(error);
        }
        return mailbox ?? throw new MailboxUriFormatException($"\"{uri}\" names a server but no mailbox");
    }

    /// <summary>Reads an IMAP URL naming a mailbox; false when it is malformed or names only a server.</summary>
    public static bool TryParse(string? uri, out MailboxUri? mailbox)
    {
        mailbox = null;
        return uri is not null && TryParse(uri, out mailbox, out _) && mailbox is not null;
    }

    /// <summary>True with a null <paramref name="mailbox"/> when the URL names a server only (a Login's <c>uri</c>).</summary>
    internal static bool TryParse(string uri, out MailboxUri? mailbox, out string error)
    {
        mailbox = null;
        error = "";
        if (!uri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = $"\"{uri}\" is not an imap:// URL";
            return false;
        }
        var rest = uri.AsSpan(Scheme.Length);
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        var pathAndParameters = slash < 0 ? [] : rest[(slash + 1)..];

        string? owner = null;
        var at = authority.LastIndexOf('@');
        var host = at < 0 ? authority : authority[(at + 1)..];
        if (at >= 0)
        {
            var userInfo = authority[..at];
            var auth = userInfo.IndexOf(';');
            if (auth >= 0)
            {
                userInfo = userInfo[..auth];
            }
            if (!TryPercentDecode(userInfo, Scheme.Length, out owner, out error))
            {
                error = $"{error} \"{uri}\"";
                return false;
            }
            if (owner.Length == 0)
            {
                owner = null;
            }
        }
        if (host.IsEmpty)
        {
            error = $"\"{uri}\" names no server";
            return false;
        }

        var semicolon = pathAndParameters.IndexOf(';');
        var path = semicolon < 0 ? pathAndParameters : pathAndParameters[..semicolon];
        path = path.TrimEnd('/');
        if (path.IsEmpty)
        {
            if (semicolon >= 0)
            {
                error = $"\"{uri}\" has parameters but names no mailbox";
                return false;
            }
            return true;
        }

        uint? uidValidity = null, uid = null;
        if (semicolon >= 0 && !TryReadParameters(uri, pathAndParameters[(semicolon + 1)..], ref uidValidity, ref uid, out error))
        {
            return false;
        }
        if (!TryPercentDecode(path, Scheme.Length + slash + 1, out var name, out error))
        {
            error = $"{error} \"{uri}\"";
            return false;
        }

        string? mailboxOwner;
        string folderPath;
        if (owner is null)
        {
            if (!TryReadAdminForm(name, out mailboxOwner, out folderPath))
            {
                error = $"\"{uri}\" names a user folder without a user";
                return false;
            }
        }
        else
        {
            (name, mailboxOwner, folderPath) = FromOwnerView(owner, name);
        }

        mailbox = new MailboxUri
        {
            Server = host.ToString(),
            Name = name,
            Owner = mailboxOwner,
            FolderPath = folderPath,
            UidValidity = uidValidity,
            Uid = uid,
            Original = uri,
        };
        return true;
    }

    private static bool TryReadParameters(string uri, ReadOnlySpan<char> parameters, ref uint? uidValidity, ref uint? uid, out string error)
    {
        error = "";
        foreach (var range in parameters.Split(';'))
        {
            var parameter = parameters[range].TrimEnd('/');
            if (parameter.IsEmpty)
            {
                continue;
            }
            var equals = parameter.IndexOf('=');
            if (equals <= 0)
            {
                error = $"parameter \"{parameter}\" of \"{uri}\" has no value";
                return false;
            }
            var key = parameter[..equals];
            var value = parameter[(equals + 1)..];
            var isUidValidity = key.Equals("UIDVALIDITY", StringComparison.OrdinalIgnoreCase);
            if (!isUidValidity && !key.Equals("UID", StringComparison.OrdinalIgnoreCase))
            {
                // SECTION, PARTIAL, URLAUTH...: not part of the event model; Original keeps them.
                continue;
            }
            if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number == 0)
            {
                error = $"{key} \"{value}\" of \"{uri}\" is not a number from 1 to 4294967295";
                return false;
            }
            if (isUidValidity)
            {
                uidValidity = number;
            }
            else
            {
                uid = number;
            }
        }
        return true;
    }

    /// <summary>Cyrus 3.x: <c>user/alice/Archive@example.org</c> is alice@example.org's <c>INBOX/Archive</c>.</summary>
    private static bool TryReadAdminForm(string name, out string? owner, out string folderPath)
    {
        owner = null;
        var at = name.LastIndexOf('@');
        string? domain = at >= 0 && name.IndexOf('/', at) < 0 ? name[(at + 1)..] : null;
        var local = domain is null ? name.AsSpan() : name.AsSpan(0, at);

        // unixhierarchysep: yes gives user/alice; the netnews form is user.alice, with '.' in names as '^'.
        var separator = local.StartsWith("user/") ? '/' : local.StartsWith("user.") ? '.' : '\0';
        if (separator == '\0')
        {
            folderPath = DecodeFolder(local.ToString());
            return true;
        }
        var afterUser = local[5..];
        var end = afterUser.IndexOf(separator);
        var user = end < 0 ? afterUser.ToString() : afterUser[..end].ToString();
        if (user.Length == 0)
        {
            folderPath = "";
            return false;
        }
        if (separator == '.')
        {
            user = user.Replace('^', '.');
        }
        owner = domain is null ? user : $"{user}@{domain}";
        folderPath = end < 0 ? "INBOX" : $"INBOX{separator}{DecodeFolder(afterUser[(end + 1)..].ToString())}";
        return true;
    }

    /// <summary>Cyrus 2.5: the owner is in the authority and the path is the owner's view (<c>INBOX</c>, <c>Sent</c>).</summary>
    private static (string Name, string? Owner, string FolderPath) FromOwnerView(string viewer, string path)
    {
        var at = viewer.LastIndexOf('@');
        var viewerLocal = at < 0 ? viewer : viewer[..at];
        var domainSuffix = at < 0 ? "" : viewer[at..];
        const string OtherUsers = "Other Users/", SharedFolders = "Shared Folders/";

        if (path.Equals("INBOX", StringComparison.OrdinalIgnoreCase))
        {
            return ($"user/{viewerLocal}{domainSuffix}", viewer, "INBOX");
        }
        if (path.StartsWith("INBOX/", StringComparison.OrdinalIgnoreCase))
        {
            var sub = path[6..];
            return ($"user/{viewerLocal}/{sub}{domainSuffix}", viewer, $"INBOX/{DecodeFolder(sub)}");
        }
        if (path.StartsWith(OtherUsers, StringComparison.Ordinal) && path.Length > OtherUsers.Length)
        {
            var rest = path[OtherUsers.Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var user = slash < 0 ? rest : rest[..slash];
            var owner = user.Contains('@', StringComparison.Ordinal) ? user : user + domainSuffix;
            var folder = slash < 0 ? "INBOX" : $"INBOX/{DecodeFolder(rest[(slash + 1)..])}";
            return ($"user/{rest}{domainSuffix}", owner, folder);
        }
        if (path.StartsWith(SharedFolders, StringComparison.Ordinal) && path.Length > SharedFolders.Length)
        {
            var rest = path[SharedFolders.Length..];
            return ($"{rest}{domainSuffix}", null, DecodeFolder(rest));
        }
        return ($"user/{viewerLocal}/{path}{domainSuffix}", viewer, DecodeFolder(path));
    }

    private static string DecodeFolder(string folder)
    {
        // A name with raw non-ASCII is already UTF-8 (Cyrus 3.x with UTF-8 names); only pure ASCII can be mUTF-7.
        if (!Ascii.IsValid(folder))
        {
            return folder;
        }
        return ModifiedUtf7.TryDecode(folder, out var decoded) ? decoded : folder;
    }

    /// <summary>On failure <paramref name="error"/> is a phrase to complete with the URL.</summary>
    private static bool TryPercentDecode(ReadOnlySpan<char> text, int offset, out string decoded, out string error)
    {
        error = "";
        if (text.IndexOf('%') < 0)
        {
            decoded = text.ToString();
            return true;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = 0;
            var i = 0;
            while (i < text.Length)
            {
                var percent = text[i..].IndexOf('%');
                var plain = percent < 0 ? text[i..] : text.Slice(i, percent);
                length += Encoding.UTF8.GetBytes(plain, buffer.AsSpan(length));
                i += plain.Length;
                if (percent < 0)
                {
                    break;
                }
                if (i + 2 >= text.Length || !IsHex(text[i + 1]) || !IsHex(text[i + 2]))
                {
                    decoded = "";
                    error = $"invalid percent-encoding at position {offset + i} of";
                    return false;
                }
                buffer[length++] = (byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2]));
                i += 3;
            }
            var bytes = buffer.AsSpan(0, length);
            if (!Utf8.IsValid(bytes))
            {
                decoded = "";
                error = "percent-encoded bytes that are not UTF-8 in";
                return false;
            }
            decoded = Encoding.UTF8.GetString(bytes);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/// <summary>An IMAP URL that cannot be read as a mailbox; the message says what is wrong.</summary>
public sealed class MailboxUriFormatException : FormatException
{
    public MailboxUriFormatException() { }
    public MailboxUriFormatException(string message) : base(message) { }
    public MailboxUriFormatException(string message, Exception innerException) : base(message, innerException) { }
}
