using Bonnie.Pipeline.Storage.Embedded;

namespace Bonnie.Pipeline.Tests.Storage;

public sealed class FoldedLettersTests
{
    [Theory]
    // The accents are FTS5's to take off (remove_diacritics): only ł, ø, æ, ß and the like are folded here.
    [InlineData("Meeting in Łódź", "Meeting in Łódź\nLódź")]
    [InlineData("Ørsted Æsop \uFB01nance Straße", "Ørsted Æsop \uFB01nance Straße\nOrsted AEsop finance Strasse")]
    // Nothing but the words that have another spelling: not the whole text again for its punctuation or spaces
    // (a review: Japanese mail was doubled for its full-width digits, and a phrase could run across the join).
    [InlineData("Hello\u00A0world, see you…", "Hello\u00A0world, see you…")]
    [InlineData("会議は１０時（予定）です", "会議は１０時（予定）です\n会議は10時")]
    [InlineData("plain ascii", "plain ascii")]
    // Numbers of every kind are part of a word, as FTS5 keeps them.
    [InlineData("H\u2082O in 5m\u00B2", "H\u2082O in 5m\u00B2\nH2O 5m2")]
    public void WithFoldedCopy_WordsWithAPlainSpellingAddedOnce(string text, string indexed)
    {
        Assert.Equal(indexed, FoldedLetters.WithFoldedCopy(text));
    }
}
