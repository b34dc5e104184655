using Bonnie.Shared.Search;

namespace Bonnie.Shared.Tests.Search;

public sealed class SpellingTests
{
    [Theory]
    [InlineData("archve", "archive", 1)]
    [InlineData("inbx", "inbox", 1)]
    [InlineData("alice", "alice", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_LettersInsertedRemovedOrReplaced(string a, string b, int expected) =>
        Assert.Equal(expected, Spelling.Distance(a, b));
}
