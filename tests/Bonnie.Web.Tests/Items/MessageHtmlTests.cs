using Bonnie.Web.Messages;
using Bonnie.Web.Search;
using MimeKit;

namespace Bonnie.Web.Tests.Items;

public sealed class MessageHtmlTests
{
    [Theory]
    [InlineData("<img src=\"http://tracker.example.net/p.gif\">")]
    [InlineData("<p style=\"background:url(https://tracker.example.net/a.png)\">x</p>")]
    [InlineData("<a href=\"javascript:alert(1)\">x</a>")]
    [InlineData("<svg onload=\"alert(1)\"></svg>")]
    [InlineData("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>")]
    [InlineData("<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">")]
    [InlineData("<base href=\"https://evil.example.net/\"><img src=\"p.gif\">")]
    [InlineData("<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example.net/\">")]
    public void Sanitize_HostileFragment_LeavesNothingActiveOrRemote(string html)
    {
        var result = MessageHtml.Sanitize(html, null);

        Assert.All(["alert", "tracker.example.net", "evil.example.net", "javascript:", "onload", "onerror", "svg+xml", "url(", "<meta", "<base"],
            f => Assert.DoesNotContain(f, result, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Sanitize_InlineCidImage_BecomesADataUri()
    {
        var image = new MimePart("image", "png") { ContentId = "logo@example.org", Content = new MimeContent(new MemoryStream([0x89, 0x50, 0x4e, 0x47])) };
        var message = new MimeMessage { Body = new Multipart("related") { new TextPart("html") { Text = "<img src=\"cid:logo@example.org\">" }, image } };

        var result = MessageHtml.Sanitize("<img src=\"cid:logo@example.org\">", message);

        Assert.Contains("src=\"data:image/png;base64,iVBORw==\"", result, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("M743974037cbef97becd11ce5", "M743974037cbef97becd11ce5")]
    [InlineData("mid:<a/b%c@example.org>:512", null)]
    [InlineData("loc:sufr9a0wrxwpaaifzy6ge6cu/1795951197/3", null)]
    [InlineData("~looks-encoded", null)]
    public void ItemLinks_Key_RoundTripsThroughTheUrl(string key, string? plain)
    {
        var segment = ItemLinks.Encode(key);

        Assert.Equal(key, ItemLinks.Decode(segment));
        Assert.Equal(segment, Uri.EscapeDataString(segment));
        if (plain is not null)
        {
            Assert.Equal(plain, segment);
        }
    }

    [Theory]
    [InlineData("user:alice", "folder", "INBOX/Old Stuff", "user:alice folder:\"INBOX/Old Stuff\"")]
    [InlineData("", "subject", "say \"hi\"", "subject:\"say \\\"hi\\\"\"")]
    [InlineData("event:Login", "event", "Login", "event:Login")]
    public void QueryTerms_Append_WritesATermThatParses(string query, string field, string value, string expected)
    {
        var result = QueryTerms.Append(query, QueryTerms.Term(field, value));

        Assert.Equal(expected, result);
        Assert.Equal(expected, Shared.Search.QueryParser.Parse(result).Text);
    }
}
