using System.Text.Json;
using Bonnie.Shared.Events;

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
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // A notification that is not JSON, or whose strings are not UTF-8 (GetString cannot transcode them: an
            // InvalidOperationException), still gets a lane of its own and is stored; the worker quarantines it. An
            // exception here would escape the broker's poller and stop the whole process, on every resend.
            return null;
        }
        return OwnerOf(uri) ?? (string.IsNullOrEmpty(user) ? null : "user:" + user.ToLowerInvariant());
    }

    internal static string? OwnerOf(string? uri)
    {
        if (!MailboxUri.TryParse(uri, out var mailbox) || mailbox is null)
        {
            return null;
        }
        if (mailbox.Owner is { } owner)
        {
            return "user:" + owner.ToLowerInvariant();
        }
        // A shared folder: its top-level folder and domain (shared/Team@example.org waits in shared:shared@example.org).
        var name = mailbox.Name;
        var at = name.LastIndexOf('@');
        var domain = at >= 0 ? name[at..] : "";
        var local = at >= 0 ? name[..at] : name;
        var slash = local.IndexOf('/');
        return "shared:" + (slash >= 0 ? local[..slash] : local).ToLowerInvariant() + domain.ToLowerInvariant();
    }
}
