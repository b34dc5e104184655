using System.Text;
using MimeKit;
using MimeKit.Text;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>
/// The words of a message the full-text search finds it by, beyond its subject and addresses: its text, and the
/// names of its attachments (an investigator looks for "invoice.pdf" as often as for a sentence).
/// </summary>
internal static class MessageText
{
    /// <summary>How much of a message's text is indexed.</summary>
    internal const int MaxLength = 64 * 1024;

    public static string? Of(MimeMessage message)
    {
        var sb = new StringBuilder();
        AppendText(sb, message.Body, depth: 0);
        foreach (var attachment in message.Attachments)
        {
            var name = attachment.ContentDisposition?.FileName ?? attachment.ContentType.Name;
            if (!string.IsNullOrWhiteSpace(name))
            {
                sb.Append('\n').Append(name);
            }
        }
        if (sb.Length == 0)
        {
            return null;
        }
        return sb.Length > MaxLength ? sb.ToString(0, MaxLength) : sb.ToString();
    }

    /// <summary>
    /// Every text part a reader sees, in order: of alternatives (multipart/alternative) the plain one, else the HTML's
    /// text, not its markup (indexed as it was, every message written in HTML was found by "div" or "style", and its
    /// words ran into its tags). Parts side by side are each indexed: the body's text alone left out a plain part
    /// after an HTML one, and its words were found nowhere (a review found the part not even shown).
    /// </summary>
    private static void AppendText(StringBuilder sb, MimeEntity? entity, int depth)
    {
        if (entity is null || sb.Length > MaxLength || depth > 32)
        {
            return;
        }
        switch (entity)
        {
            case Multipart alternatives when alternatives.ContentType.IsMimeType("multipart", "alternative"):
                var plain = alternatives.FirstOrDefault(p => p is TextPart { IsPlain: true });
                AppendText(sb, plain ?? alternatives.LastOrDefault(), depth + 1);
                break;
            case Multipart multipart:
                foreach (var part in multipart)
                {
                    AppendText(sb, part, depth + 1);
                }
                break;
            case TextPart { IsAttachment: false } text when text.IsPlain:
                Separate(sb).Append(text.Text);
                break;
            case TextPart { IsAttachment: false } text when text.IsHtml:
                AppendHtmlText(Separate(sb), text.Text);
                break;
        }
    }

    private static StringBuilder Separate(StringBuilder sb) => sb.Length == 0 ? sb : sb.Append('\n');

    private static void AppendHtmlText(StringBuilder sb, string html)
    {
        var tokenizer = new HtmlTokenizer(new StringReader(html));
        var hidden = 0;
        while (tokenizer.ReadNextToken(out var token) && sb.Length <= MaxLength)
        {
            switch (token)
            {
                case HtmlTagToken { Id: HtmlTagId.Script or HtmlTagId.Style or HtmlTagId.Title } tag when !tag.IsEmptyElement:
                    // Not what a reader sees: scripts, styles and the title (usually the subject again). Not the whole
                    // head: HTML lets a message leave out </head>, and its body's words would then all be hidden.
                    hidden = Math.Max(0, hidden + (tag.IsEndTag ? -1 : 1));
                    break;
                case HtmlTagToken { Id: HtmlTagId.Body }:
                    // A <style> or <title> left open does not hide the body.
                    hidden = 0;
                    sb.Append(' ');
                    break;
                case HtmlTagToken:
                    // Any tag ends a word: "<td>a</td><td>b</td>" is "a b", not "ab".
                    sb.Append(' ');
                    break;
                case HtmlScriptDataToken:
                    break;
                case HtmlDataToken data when hidden == 0:
                    sb.Append(data.Data);
                    break;
            }
        }
    }
}
