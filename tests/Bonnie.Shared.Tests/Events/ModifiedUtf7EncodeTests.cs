using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class ModifiedUtf7EncodeTests
{
    [Theory]
    // RFC 3501 5.1.3's own example, and the cases around it: "&" escaped, ASCII untouched, a run ended by ASCII.
    [InlineData("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]
    [InlineData("user/alice/R&D@example.org", "user/alice/R&-D@example.org")]
    [InlineData("user/alice/Archive@example.org", "user/alice/Archive@example.org")]
    [InlineData("user/alice/Verträge@example.org", "user/alice/Vertr&AOQ-ge@example.org")]
    // Outside the basic plane: a surrogate pair is one run, and decodes back to the same character.
    [InlineData("user/alice/📁@example.org", "user/alice/&2D3cwQ-@example.org")]
    public void Encode_MailboxName_AsImapExpectsIt_AndDecodesBack(string name, string expected)
    {
        Assert.Equal(expected, ModifiedUtf7.Encode(name));
        Assert.Equal(name, ModifiedUtf7.Decode(expected));
    }
}
