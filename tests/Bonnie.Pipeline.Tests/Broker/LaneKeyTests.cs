using System.Text;
using Bonnie.Pipeline.Broker;

namespace Bonnie.Pipeline.Tests.Broker;

public sealed class LaneKeyTests
{
    [Theory]
    [InlineData("imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=1/;UID=1", "user:alice@example.org")]
    [InlineData("imap://imap.example.org/user/alice/Archive%40example.org;UIDVALIDITY=1", "user:alice@example.org")]
    [InlineData("imap://imap.example.org/user/Bob/Old/2019%40Example.org", "user:bob@example.org")]
    [InlineData("imap://sam.park@example.org@imap.example.org/Projects/Contracts;UIDVALIDITY=9", "user:sam.park@example.org")]
    [InlineData("imap://imap.example.org/shared/Team%40example.org", "shared:shared@example.org")]
    [InlineData("imap://imap.example.org/Sales/Leads%40example.org", "shared:sales@example.org")]
    public void From_MailboxUri_TheOwnersLane(string uri, string lane)
    {
        var notification = Encoding.UTF8.GetBytes($$"""{"event":"MessageRead","uri":"{{uri}}","user":"cyrus"}""");

        Assert.Equal(lane, LaneKey.From(notification));
    }

    [Fact]
    public void From_LoginWithoutMailbox_TheUsersLane()
    {
        var login = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", "Login.json"));

        Assert.Equal("user:cyrus", LaneKey.From(login));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"event\":\"MailboxModseq\",\"user\":\"\"}")]
    public void From_NothingToOrderBy_Null(string notification)
    {
        Assert.Null(LaneKey.From(Encoding.UTF8.GetBytes(notification)));
    }

    [Fact]
    public void From_UserThatIsNotUtf8_NullInsteadOfAnException()
    {
        byte[] notification = [.. "{\"event\":\"Login\",\"user\":\"lat"u8, 0xe9, .. "n1@example.org\"}"u8];

        Assert.Null(LaneKey.From(notification));
    }
}
