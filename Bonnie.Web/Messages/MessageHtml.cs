using AngleSharp.Dom;
using Ganss.Xss;
using MimeKit;

namespace Bonnie.Web.Messages;

/// <summary>
/// Turns a message's HTML part into a document for a sandboxed <c>srcdoc</c> frame. Nothing active survives
/// (scripts, frames, forms, event handlers, javascript: URLs), nothing remote is fetched (images and CSS only from
/// data: URIs or the message's own inline parts), and links are shown, not followed: their address moves to a
/// tooltip. The document also carries its own CSP, so a sanitizer miss still cannot load or run anything.
/// </summary>
internal static class MessageHtml
{
    public const string FrameContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

    private static readonly HashSet<string> DroppedWithContent = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
        "svg", "math", "form", "button", "select", "textarea", "input", "option", "optgroup", "link", "meta", "base",
    };

    private static readonly string[] InertImageTypes = ["image/png", "image/gif", "image/jpeg", "image/webp", "image/bmp"];

    /// <summary>The full srcdoc document for <paramref name="html"/>; inline (cid:) images come from <paramref name="message"/>.</summary>
    public static string ToSrcdoc(string html, MimeMessage? message)
    {
        var body = Sanitize(html, message);
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" +
               $"<meta http-equiv=\"Content-Security-Policy\" content=\"{FrameContentSecurityPolicy}\">" +
               "</head><body>" + body + "</body></html>";
    }

    public static string Sanitize(string html, MimeMessage? message)
    {
        var sanitizer = new HtmlSanitizer { KeepChildNodes = true };
        foreach (var tag in DroppedWithContent)
        {
            sanitizer.AllowedTags.Remove(tag);
        }
        sanitizer.AllowedAttributes.Remove("action");
        sanitizer.AllowedAttributes.Remove("formaction");
        sanitizer.AllowedAttributes.Remove("background");
        sanitizer.AllowedAttributes.Remove("srcset");
        sanitizer.AllowedSchemes.Add("cid");
        sanitizer.AllowedSchemes.Add("data");
        sanitizer.AllowedSchemes.Add("mailto");
        sanitizer.AllowedAtRules.Clear();

        // Unknown harmless tags keep their text; dangerous ones lose it too, so no script text is left lying around.
        sanitizer.RemovingTag += (_, e) =>
        {
            if (DroppedWithContent.Contains(e.Tag.LocalName))
            {
                while (e.Tag.FirstChild is { } child)
                {
                    e.Tag.RemoveChild(child);
                }
            }
        };
        sanitizer.FilterUrl += (_, e) => e.SanitizedUrl = FilterUrl(e.Tag, e.OriginalUrl, message);
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is IElement { LocalName: "a" } anchor && anchor.GetAttribute("href") is { } href)
            {
                anchor.RemoveAttribute("href");
                anchor.SetAttribute("title", "Link (not followed): " + href);
            }
        };
        return sanitizer.Sanitize(html);
    }

    private static string? FilterUrl(IElement? tag, string url, MimeMessage? message)
    {
        var trimmed = url.Trim();
        if (tag is { LocalName: "a" })
        {
            // Kept only to be shown as text in a tooltip (see PostProcessNode); never a live link.
            return trimmed.StartsWith("http:", StringComparison.OrdinalIgnoreCase)
                   || trimmed.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
                   || trimmed.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)
                ? trimmed
                : null;
        }
        if (trimmed.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            var type = trimmed[5..].Split([';', ','], 2)[0];
            return InertImageTypes.Contains(type, StringComparer.OrdinalIgnoreCase) ? trimmed : null;
        }
        if (tag is { LocalName: "img" } && trimmed.StartsWith("cid:", StringComparison.OrdinalIgnoreCase) && message is not null)
        {
            return InlineImage(message, trimmed[4..]);
        }
        // Remote images, stylesheets and anything else: not fetched.
        return null;
    }

    private static string? InlineImage(MimeMessage message, string contentId)
    {
        contentId = Uri.UnescapeDataString(contentId).Trim('<', '>');
        var part = message.BodyParts.OfType<MimePart>()
            .FirstOrDefault(p => string.Equals(p.ContentId?.Trim('<', '>'), contentId, StringComparison.OrdinalIgnoreCase));
        if (part?.Content is null || !InertImageTypes.Contains(part.ContentType.MimeType, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }
        using var stream = new MemoryStream();
        part.Content.DecodeTo(stream);
        return $"data:{part.ContentType.MimeType.ToLowerInvariant()};base64,{Convert.ToBase64String(stream.ToArray())}";
    }
}
