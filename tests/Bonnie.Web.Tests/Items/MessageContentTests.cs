using System.Text;
using Bonnie.Web.Messages;

namespace Bonnie.Web.Tests.Items;

public sealed class MessageContentTests
{
    [Fact]
    public void Parse_MixedOfHtmlThenPlainThenAttachment_EveryPartShown()
    {
        // Found by a review: the plain part after an HTML one was shown nowhere, neither as text nor as an attachment.
        var bytes = Encoding.ASCII.GetBytes(string.Join("\r\n",
            "From: a@example.net", "To: b@example.org", "Subject: parts", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"b1\"", "",
            "--b1", "Content-Type: text/html; charset=us-ascii", "", "<p>The summary</p>",
            "--b1", "Content-Type: text/plain; charset=us-ascii", "", "The figures in plain text",
            "--b1", "Content-Type: application/pdf; name=\"q3.pdf\"", "Content-Disposition: attachment; filename=\"q3.pdf\"",
            "Content-Transfer-Encoding: base64", "", "JVBERi0xLjQK",
            "--b1--", ""));

        var content = MessageContent.Parse(bytes);

        Assert.Contains("The figures in plain text", content.Text, StringComparison.Ordinal);
        Assert.Contains("The summary", content.HtmlSrcdoc, StringComparison.Ordinal);
        Assert.Equal(["q3.pdf"], content.Attachments.Select(a => a.FileName));
    }

    [Fact]
    public void Parse_PlainOnly_TheTextAsItIs()
    {
        var content = MessageContent.Parse(Encoding.ASCII.GetBytes("From: a@example.net\r\nSubject: s\r\n\r\nJust this.\r\n"));

        Assert.Equal("Just this.", content.Text?.TrimEnd());
    }
}
