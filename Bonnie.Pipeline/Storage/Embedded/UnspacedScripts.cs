using System.Text;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// Chinese and Japanese are written without spaces between words. FTS5's unicode61 tokenizer splits on spaces and
/// punctuation only, so a whole sentence was one token and no word inside it could be found (a known gap since the
/// store's first version). Each Han ideograph, Hiragana and Katakana character is made a token of its own, in the text
/// that is indexed and in the query's phrase alike: a word is then the phrase of its characters (the Elasticsearch
/// store's analyzer does the same with a character filter). Korean is written with spaces and is left as it is.
/// </summary>
internal static class UnspacedScripts
{
    /// <summary>The text with a space either side of each character of those scripts; the same string when it has none.</summary>
    public static string? Spaced(string? text)
    {
        if (text is null || !Contains(text))
        {
            return text;
        }
        var sb = new StringBuilder(text.Length * 2);
        var spaced = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var pair = text.AsSpan(i, 2);
                if (IsUnspaced(char.ConvertToUtf32(c, text[i + 1])))
                {
                    sb.Append(' ').Append(pair).Append(' ');
                    spaced = true;
                }
                else
                {
                    sb.Append(pair);
                }
                i++;
            }
            else if (IsUnspaced(c))
            {
                sb.Append(' ').Append(c).Append(' ');
                spaced = true;
            }
            else
            {
                sb.Append(c);
            }
        }
        // The same string when nothing was spaced (a surrogate pair of another script, an emoji): callers tell by reference.
        return spaced ? sb.ToString() : text;
    }

    private static bool Contains(string text)
    {
        foreach (var c in text)
        {
            // Below U+3040 there is none of them: most text is decided on its first look at each character.
            if (c >= '\u3040' && (IsUnspaced(c) || char.IsHighSurrogate(c)))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsUnspaced(int codePoint) => codePoint switch
    {
        >= 0x3040 and <= 0x30FF => true, // Hiragana, Katakana
        >= 0x31F0 and <= 0x31FF => true, // Katakana phonetic extensions
        >= 0x3400 and <= 0x4DBF => true, // CJK ideographs, extension A
        >= 0x4E00 and <= 0x9FFF => true, // CJK unified ideographs
        >= 0xF900 and <= 0xFAFF => true, // CJK compatibility ideographs
        >= 0xFF66 and <= 0xFF9F => true, // half-width Katakana
        >= 0x20000 and <= 0x323AF => true, // CJK ideographs, extensions B to H
        _ => false,
    };
}
