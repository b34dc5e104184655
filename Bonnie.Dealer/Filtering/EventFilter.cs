using System.Text.Json;
using Bonnie.Dealer.Configuration;

namespace Bonnie.Dealer.Filtering;

/// <summary>
/// Drops what the deployment said it does not want, as the original Bonnie's <c>blacklist_events</c> and
/// <c>blacklist_users</c> did: some events for everyone, some (or all) events of some users.
/// </summary>
internal static class EventFilter
{
    public static bool ShouldDrop(DealerOptions options, string? eventName, ReadOnlySpan<byte> notification)
    {
        if (options.DropEvents.Count == 0 && options.DropUsers.Count == 0)
        {
            return false;
        }
        string? user = null;
        if (eventName is null || options.DropUsers.Count > 0)
        {
            ReadEventAndUser(notification, ref eventName, out user);
        }
        if (eventName is not null && options.DropEvents.Contains(eventName))
        {
            return true;
        }
        return user is not null && options.DropUsers.Contains(user)
            && (options.DropUserEvents.Count == 0 || (eventName is not null && options.DropUserEvents.Contains(eventName)));
    }

    private static void ReadEventAndUser(ReadOnlySpan<byte> json, ref string? eventName, out string? user)
    {
        user = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isEvent = reader.ValueTextEquals("event"u8);
                var isUser = reader.ValueTextEquals("user"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && (isEvent || isUser))
                {
                    if (isEvent)
                    {
                        eventName ??= reader.GetString();
                    }
                    else
                    {
                        user = reader.GetString();
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
            // Not JSON: never filtered, the broker quarantines it with the reason.
        }
    }
}
