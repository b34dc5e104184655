using Bonnie.Shared.Cyrus;

namespace Bonnie.Shared.Tests.Cyrus;

public sealed class ModifiedUtf7Tests
{
    [Theory]
    // RFC 3501 5.1.3's own example, and the cases around it: "&" escaped, ASCII untouched, a run ended by ASCII.
    [InlineData("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]
    [InlineData("user/alice/R&D@example.org", "user/alice/R&-D@example.org")]
    [InlineData("user/alice/Archive@example.org", "user/alice/Archive@example.org")]
    [InlineData("user/alice/Verträge@example.org", "user/alice/Vertr&AOQ-ge@example.org")]
    public void Encode_MailboxName_AsImapExpectsIt(string name, string expected)
        => Assert.Equal(expected, ModifiedUtf7.Encode(name));
}
