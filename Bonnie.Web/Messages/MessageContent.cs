using MimeKit;

namespace Bonnie.Web.Messages;

internal sealed record MessageHeader(string Name, string Value);

/// <summary>One attachment; <see cref="Index"/> is its place in the message's attachment list, used in the download link.</summary>
internal sealed record MessageAttachment(int Index, string FileName, string ContentType);

/// <summary>A downloadable attachment's bytes.</summary>
internal sealed record AttachmentFile(string FileName, string ContentType, byte[] Bytes);

/// <summary>What an officer reads of a stored payload: headers, the text part, the sanitized HTML part, attachments.</summary>
internal sealed class MessageContent
{
    public required IReadOnlyList<MessageHeader> Headers { get; init; }
    public string? Text { get; init; }
    /// <summary>The sanitized HTML part as a whole document for a sandboxed srcdoc frame; null when there is none.</summary>
    public string? HtmlSrcdoc { get; init; }
    public required IReadOnlyList<MessageAttachment> Attachments { get; init; }

    public static MessageContent Parse(byte[] payload)
    {
        var message = Load(payload);
        return new MessageContent
        {
            Headers = message.Headers.Select(h => new MessageHeader(h.Field, h.Value)).ToList(),
            Text = PlainText(message),
            HtmlSrcdoc = message.HtmlBody is { } html ? MessageHtml.ToSrcdoc(html, message) : null,
            Attachments = message.Attachments.Select((a, i) => new MessageAttachment(i, FileNameOf(a, i), a.ContentType.MimeType)).ToList(),
        };
    }

    /// <summary>
    /// Every plain-text part shown inline, in order. MimeKit's TextBody gives the body's own text only: a
    /// multipart/mixed of an HTML part then a plain one (mail from scripts, forwarded notes) had its plain part shown
    /// nowhere, neither as text nor as an attachment (a review).
    /// </summary>
    private static string? PlainText(MimeMessage message)
    {
        if (message.TextBody is { } body)
        {
            var others = message.BodyParts.OfType<TextPart>()
                .Where(p => p.IsPlain && !p.IsAttachment && !string.Equals(p.Text, body, StringComparison.Ordinal)).Select(p => p.Text).ToList();
            return others.Count == 0 ? body : string.Join(PartSeparator, [body, .. others]);
        }
        var parts = message.BodyParts.OfType<TextPart>().Where(p => p.IsPlain && !p.IsAttachment).Select(p => p.Text).ToList();
        return parts.Count == 0 ? null : string.Join(PartSeparator, parts);
    }

    private const string PartSeparator = "\n\n――― next text part ―――\n\n";

    /// <summary>The decoded bytes of attachment <paramref name="index"/>, or null when there is no such attachment.</summary>
    public static AttachmentFile? Attachment(byte[] payload, int index)
    {
        if (index < 0 || Load(payload).Attachments.Skip(index).FirstOrDefault() is not { } entity)
        {
            return null;
        }
        using var stream = new MemoryStream();
        switch (entity)
        {
            case MessagePart { Message: { } inner }:
                inner.WriteTo(stream);
                break;
            case MimePart { Content: { } content }:
                content.DecodeTo(stream);
                break;
            default:
                entity.WriteTo(stream);
                break;
        }
        return new AttachmentFile(FileNameOf(entity, index), entity.ContentType.MimeType, stream.ToArray());
    }

    private static MimeMessage Load(byte[] payload)
    {
        using var stream = new MemoryStream(payload, writable: false);
        return MimeMessage.Load(stream);
    }

    private static string FileNameOf(MimeEntity entity, int index)
    {
        var name = entity switch
        {
            MimePart part => part.FileName,
            MessagePart { Message.Subject: { } subject } => subject + ".eml",
            _ => null,
        };
        // A name from the message is shown and offered as a download name; path parts are never honoured.
        name = string.IsNullOrWhiteSpace(name) ? null : Path.GetFileName(name.Replace('\\', '/'));
        return string.IsNullOrWhiteSpace(name) ? $"attachment-{index + 1}" : name;
    }
}
