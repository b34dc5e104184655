using Bonnie.Pipeline.Storage.Embedded;

namespace Bonnie.Pipeline.Tests.Storage;

public sealed class UnspacedScriptsTests
{
    [Theory]
    [InlineData("東京の会議", " 東  京  の  会  議 ")]
    [InlineData("Re: ミーティング 10時", "Re:  ミ  ー  テ  ィ  ン  グ  10 時 ")]
    // An ideograph outside the first plane (a surrogate pair) is one word, not two halves.
    [InlineData("𠮷野家", " 𠮷  野  家 ")]
    // Korean is written with spaces: left as it is.
    [InlineData("회의 일정", "회의 일정")]
    public void Spaced_Text_EachCharacterOfThoseScriptsAWord(string text, string expected)
    {
        Assert.Equal(expected, UnspacedScripts.Spaced(text));
    }

    [Fact]
    public void Spaced_TextWithoutThem_TheSameStringNotACopy()
    {
        // An emoji is a surrogate pair, of no script written without spaces.
        var text = "Quarterly report, Ünïcödé and עברית 😀";

        Assert.Same(text, UnspacedScripts.Spaced(text));
        Assert.Null(UnspacedScripts.Spaced(null));
    }
}
