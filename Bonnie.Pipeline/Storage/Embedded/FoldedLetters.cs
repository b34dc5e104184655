using System.Text;
using Bonnie.Shared.Search;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// Letters FTS5's unicode61 tokenizer keeps apart from their plain spelling: it takes accents off (remove_diacritics 2)
/// but ł, ø, æ, œ, ß, đ, þ, ı have no accent to take off, and ligatures (ﬁ) and full-width letters (ｉｎｖｏｉｃｅ) are
/// other characters. An officer typing on an ASCII keyboard searched "lodz", "orsted", "strasse" or "invoice" and found
/// nothing (a review), while the Elasticsearch store (asciifolding) found them all. The indexed text gets, after it, the
/// plain spelling of each word that has another, in order, so both spellings are words of the event: "Łódź" and "lodz"
/// each find it, and "orsted aesop" the phrase "Ørsted Æsop". Only words: a copy of the whole text when anything
/// changed doubled Japanese mail for its full-width digits (a review). The added words follow one another, so a phrase
/// of plain spellings can match two changed words that were not side by side: a search finds a little more, never less.
/// The query is not folded (its spelling is one of the two). Text indexed before this stays as it was.
/// </summary>
internal static class FoldedLetters
{
    /// <summary>The text, followed by a line with the plain spelling of its words that have one; the same string otherwise.</summary>
    public static string? WithFoldedCopy(string? text)
    {
        if (text is null || Ascii.IsValid(text))
        {
            return text;
        }
        StringBuilder? extra = null;
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && IsWordCharacter(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                var word = text[start..i];
                var folded = Fold(word);
                if (!string.Equals(folded, word, StringComparison.Ordinal))
                {
                    (extra ??= new StringBuilder(text.Length + 2).Append(text).Append('\n')).Append(folded).Append(' ');
                }
                start = -1;
            }
        }
        return extra?.ToString(0, extra.Length - 1) ?? text;
    }

    // Letters, numbers of every kind (₂, ², Ⅻ: FTS5 keeps them in words), the marks that go with them, and both halves
    // of a character beyond U+FFFF.
    private static bool IsWordCharacter(char c) => char.IsLetter(c) || char.IsNumber(c) || char.IsSurrogate(c)
        || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    internal static string Fold(string text)
    {
        // Compatibility forms: ligatures and full-width letters become the letters they stand for.
        var compatible = UnicodeForms.Normalized(text, NormalizationForm.FormKC);
        StringBuilder? sb = null;
        for (var i = 0; i < compatible.Length; i++)
        {
            var replacement = Replacement(compatible[i]);
            if (replacement is null)
            {
                sb?.Append(compatible[i]);
                continue;
            }
            sb ??= new StringBuilder(compatible, 0, i, compatible.Length + 8);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? compatible;
    }

    private static string? Replacement(char c) => c switch
    {
        'ß' => "ss",
        'ẞ' => "SS",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'ø' => "o",
        'Ø' => "O",
        'ł' => "l",
        'Ł' => "L",
        'đ' => "d",
        'Đ' => "D",
        'ð' => "d",
        'Ð' => "D",
        'þ' => "th",
        'Þ' => "TH",
        'ı' => "i",
        'ħ' => "h",
        'Ħ' => "H",
        'ŧ' => "t",
        'Ŧ' => "T",
        _ => null,
    };
}
