using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class SequenceSetTests
{
    [Theory]
    [InlineData("1", new uint[] { 1 })]
    [InlineData("1:3,7", new uint[] { 1, 2, 3, 7 })]
    [InlineData("5:3", new uint[] { 3, 4, 5 })]
    [InlineData("9,2:1", new uint[] { 9, 1, 2 })]
    [InlineData("4294967295", new uint[] { 4294967295 })]
    [InlineData("4294967294:4294967295", new uint[] { 4294967294, 4294967295 })]
    public void Parse_ValidSet_UidsInOrderSent(string text, uint[] uids)
    {
        Assert.Equal(uids, SequenceSet.Parse(text).Uids);
    }

    [Fact]
    public void Parse_ReversedRange_NormalisedAndPrintedBack()
    {
        var set = SequenceSet.Parse("5:3,7");

        Assert.Equal([new UidRange(3, 5), new UidRange(7, 7)], set.Ranges);
        Assert.Equal("3:5,7", set.ToString());
        Assert.Equal(4, set.Count);
        Assert.True(set.Contains(4));
        Assert.False(set.Contains(6));
    }

    [Fact]
    public void Count_WholeUidSpace_NoOverflow()
    {
        Assert.Equal(4294967295L, SequenceSet.Parse("1:4294967295").Count);
    }

    [Theory]
    [InlineData("*", "concrete UIDs")]
    [InlineData("3:*", "concrete UIDs")]
    [InlineData("0", "UID 0")]
    [InlineData("0:3", "UID 0")]
    [InlineData("", "empty")]
    [InlineData("1,", "end")]
    [InlineData(":3", "position 0")]
    [InlineData("1:2:3", "position 3")]
    [InlineData("-1", "position 0")]
    [InlineData("99999999999", "larger")]
    public void Parse_Invalid_TypedErrorSayingWhy(string text, string expected)
    {
        var error = Assert.Throws<SequenceSetFormatException>(() => SequenceSet.Parse(text));

        Assert.IsAssignableFrom<FormatException>(error);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(SequenceSet.TryParse(text, out _));
    }
}
