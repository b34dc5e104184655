using System.Globalization;
using System.Text.Json;

namespace Bonnie.Shared.Events;

/// <summary>
/// The 2.5/Kolab dialect sends no <c>vnd.cmu.envelope</c>; its <c>messageHeaders</c> carry the same facts per UID,
/// already decoded (<c>"From": ["Erin Müller &lt;erin@example.net&gt;"]</c>). Read into an <see cref="Envelope"/> so
/// that subject, senders and recipients are searched and shown the same whichever dialect the server speaks.
/// </summary>
public static class KolabHeaders
{
    /// <summary>The envelope of the event's first message that has headers; null when there are none.</summary>
    public static Envelope? EnvelopeOf(IReadOnlyDictionary<uint, JsonElement> headers)
    {
        if (headers.Count == 0)
        {
            return null;
        }
        var first = headers.MinBy(h => h.Key).Value;
        if (first.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var dateText = Text(first, "Date");
        return new Envelope
        {
            Subject = Text(first, "Subject"),
            DateText = dateText,
            Date = DateTimeOffset.TryParse(dateText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : null,
            MessageId = Text(first, "Message-ID"),
            InReplyTo = Text(first, "In-Reply-To"),
            From = Addresses(first, "From"),
            Sender = Addresses(first, "Sender"),
            ReplyTo = Addresses(first, "Reply-To"),
            To = Addresses(first, "To"),
            Cc = Addresses(first, "Cc"),
            Bcc = Addresses(first, "Bcc"),
        };
    }

    private static string? Text(JsonElement headers, string name)
        => headers.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Array when v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.String => v[0].GetString(),
            _ => null,
        } : null;

    private static List<EmailAddress> Addresses(JsonElement headers, string name)
    {
        if (!headers.TryGetProperty(name, out var v))
        {
            return [];
        }
        // One address per element: Kolab has split the header already, so a comma inside a name ("Park, Sam") is no separator.
        IEnumerable<JsonElement> values = v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [v];
        return values.Where(x => x.ValueKind == JsonValueKind.String).Select(x => Address(x.GetString()!)).OfType<EmailAddress>().ToList();
    }

    private static EmailAddress? Address(string value)
    {
        var open = value.LastIndexOf('<');
        var close = value.LastIndexOf('>');
        if (open >= 0 && close > open)
        {
            var name = value[..open].Trim().Trim('"').Trim();
            return new EmailAddress(name.Length > 0 ? name : null, value[(open + 1)..close].Trim());
        }
        var bare = value.Trim();
        return bare.Length > 0 ? new EmailAddress(null, bare) : null;
    }
}
