using Bonnie.Shared.Protocol;

namespace Bonnie.Collector.Tests;

public sealed class CollectRequestTests
{
    [Fact]
    public void ToString_ThenParse_SameRequestEvenWithSpacesAndNonAscii()
    {
        var request = CollectRequest.ForPayload("sufr9a0wrxwpaaifzy6ge6cu", 7, "user/alice/Mein Ordner/März@example.org");

        Assert.True(CollectRequest.TryParse(request.ToString(), out var parsed, out var error), error);

        Assert.Equal(request, parsed);
    }

    [Theory]
    [InlineData("payload ../../etc 1 user%2Falice%40example.org", "not a Cyrus mailbox id")]
    [InlineData("payload abc 0 user%2Falice%40example.org", "not a UID")]
    [InlineData("payload abc x user%2Falice%40example.org", "not a UID")]
    [InlineData("rm -rf /", "not a collector request")]
    [InlineData("", "not a collector request")]
    public void TryParse_Hostile_RefusedWithReason(string frame, string reason)
    {
        Assert.False(CollectRequest.TryParse(frame, out _, out var error));
        Assert.Contains(reason, error);
    }
}
