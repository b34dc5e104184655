using System.Text;
using Bonnie.Pipeline.Worker.Payloads;
using MimeKit;

namespace Bonnie.Pipeline.Tests.Worker;

public sealed class MessageTextTests
{
    private static readonly byte[] HtmlOnlyWithAttachment = Encoding.ASCII.GetBytes(
        "From: cfo@example.net\r\nTo: alice@example.org\r\nSubject: figures\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
        + "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + "<html><head><title>ignored title</title><style>td { color: red }</style><script>alert('x')</script></head>"
        + "<body><table><tr><td>Quarterly</td><td>revenue</td></tr></table><p>Caf&eacute; meeting&nbsp;moved</p></body></html>\r\n"
        + "--b1\r\nContent-Type: application/pdf; name=\"Q4-invoice.pdf\"\r\nContent-Disposition: attachment; filename=\"Q4-invoice.pdf\"\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n");

    [Fact]
    public void Of_HtmlOnlyMessage_ItsTextNotItsMarkup_AndTheAttachmentsName()
    {
        var text = PayloadFetcher.BodyText(HtmlOnlyWithAttachment)!;

        // Words of the cells kept apart, entities decoded.
        Assert.Contains("Quarterly", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Quarterlyrevenue", text, StringComparison.Ordinal);
        Assert.Contains("Café meeting", text, StringComparison.Ordinal);
        Assert.Contains("Q4-invoice.pdf", text, StringComparison.Ordinal);
        foreach (var markup in new[] { "<td>", "color", "alert", "ignored title", "table" })
        {
            Assert.DoesNotContain(markup, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Of_HtmlThenPlainSideBySide_BothIndexed_AlternativesOnlyTheirPlainOne()
    {
        // A plain part after an HTML one (not alternatives of each other) had its words found nowhere.
        var bytes = Encoding.ASCII.GetBytes(string.Join("\r\n",
            "From: a@example.net", "Subject: s", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b1\"", "",
            "--b1", "Content-Type: multipart/alternative; boundary=\"b2\"", "",
            "--b2", "Content-Type: text/plain; charset=us-ascii", "", "kiwi in plain",
            "--b2", "Content-Type: text/html; charset=us-ascii", "", "<p>kiwi in html mango</p>",
            "--b2--",
            "--b1", "Content-Type: text/html; charset=us-ascii", "", "<p>papaya summary</p>",
            "--b1", "Content-Type: text/plain; charset=us-ascii", "", "quince figures",
            "--b1--", ""));

        var text = PayloadFetcher.BodyText(bytes)!;

        Assert.Contains("kiwi in plain", text, StringComparison.Ordinal);
        Assert.Contains("papaya summary", text, StringComparison.Ordinal);
        Assert.Contains("quince figures", text, StringComparison.Ordinal);
        // Of the alternatives, the plain one only: the same words twice would only cost space.
        Assert.DoesNotContain("mango", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_HtmlWithoutItsHeadClosed_TheBodysWordsStillIndexed()
    {
        // HTML lets </head> be left out (found by a review: such a message was indexed without a word of its body).
        var message = new MimeMessage
        {
            Subject = "s",
            Body = new TextPart("html") { Text = "<html><head><meta charset=utf-8><style>p{color:red}</style><body><p>Wire the funds</p></body></html>" },
        };

        var text = MessageText.Of(message)!;

        Assert.Contains("Wire the funds", text, StringComparison.Ordinal);
        Assert.DoesNotContain("color", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_PlainTextMessage_ItsText_AndLongTextCut()
    {
        var message = new MimeMessage { Subject = "s", Body = new TextPart("plain") { Text = new string('a', 70_000) } };

        Assert.Equal(MessageText.MaxLength, MessageText.Of(message)!.Length);
        Assert.Null(MessageText.Of(new MimeMessage { Subject = "nothing in it" }));
    }
}
