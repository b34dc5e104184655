using System.Text;
using System.Text.Json;

namespace Bonnie.Pipeline.Broker;

/// <summary>
/// Which lane a notification waits in. Jobs of one lane go to workers one at a time in arrival order; lanes
/// proceed in parallel. The lane is the account that owns the mailbox (all of a user's folders), so a MOVE
/// between two folders of a user is never processed before the delivery it moves. Shared folders get a lane per
/// top-level folder; events without a mailbox (Login, Logout) use the user's lane.
/// </summary>
internal static class LaneKey
{
    /// <summary>The lane, or null when the notification names neither mailbox nor user (it then waits alone).</summary>
    public static string? From(ReadOnlySpan<byte> notification)
    {
        string? uri = null;
        string? user = null;
        try
        {
            var reader = new Utf8JsonReader(notification, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUri = reader.ValueTextEquals("uri"u8);
                var isUser = !isUri && reader.ValueTextEquals("user"u8);
                reader.Read();
                if ((isUri || isUser) && reader.TokenType == JsonTokenType.String)
                {
                    if (isUri) { uri = reader.GetString(); } else { user = reader.GetString(); }
                    if (uri is not null && user is not null)
                    {
                        break;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // A notification that is not JSON still gets a lane of its own; the worker quarantines it.
            return null;
        }
        return OwnerOf(uri) ?? (string.IsNullOrEmpty(user) ? null : "user:" + user.ToLowerInvariant());
    }

    internal static string? OwnerOf(string? uri)
    {
        const string scheme = "imap://";
        if (uri is null || !uri.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var rest = uri.AsSpan(scheme.Length);
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        // Cyrus 2.5 names the owner in the authority: imap://alice@example.org@server/INBOX
        var at = authority.LastIndexOf('@');
        if (at > 0)
        {
            return "user:" + Uri.UnescapeDataString(authority[..at].ToString()).ToLowerInvariant();
        }
        if (slash < 0)
        {
            return null;
        }
        var path = rest[(slash + 1)..];
        var semicolon = path.IndexOf(';');
        if (semicolon >= 0)
        {
            path = path[..semicolon];
        }
        if (path.IsEmpty)
        {
            return null;
        }
        var name = Uri.UnescapeDataString(path.ToString());
        var domainAt = name.LastIndexOf('@');
        var domain = domainAt >= 0 ? name[(domainAt + 1)..] : "";
        var local = domainAt >= 0 ? name[..domainAt] : name;
        if (local.StartsWith("user/", StringComparison.Ordinal))
        {
            var owner = local["user/".Length..];
            var end = owner.IndexOf('/');
            owner = end >= 0 ? owner[..end] : owner;
            return Lane("user:", owner, domain);
        }
        var top = local.IndexOf('/');
        return Lane("shared:", top >= 0 ? local[..top] : local, domain);
    }

    private static string Lane(string prefix, string local, string domain)
    {
        var builder = new StringBuilder(prefix.Length + local.Length + domain.Length + 1).Append(prefix).Append(local.ToLowerInvariant());
        if (domain.Length > 0)
        {
            builder.Append('@').Append(domain.ToLowerInvariant());
        }
        return builder.ToString();
    }
}
