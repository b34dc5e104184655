using Bonnie.Pipeline.Restore;

namespace Bonnie.Pipeline.Tests.Restore;

public sealed class RestoreScopesTests
{
    [Theory]
    [InlineData("folder", RestoreScope.Folder)]
    [InlineData("MAILBOX", RestoreScope.Mailbox)]
    [InlineData(" messages ", RestoreScope.Messages)]
    public void TryParse_ANameInAnyCase_ThatScope(string text, RestoreScope expected)
    {
        Assert.True(RestoreScopes.TryParse(text, out var scope));
        Assert.Equal(expected, scope);
    }

    /// <summary>Enum parsing reads "1" as Folder and "Folder,Mailbox" as Mailbox: a restore nobody asked for.</summary>
    [Theory]
    [InlineData("1")]
    [InlineData("Folder,Mailbox")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("everything")]
    public void TryParse_NumberListOrUnknown_Refused(string? text)
    {
        Assert.False(RestoreScopes.TryParse(text, out _));
    }
}
