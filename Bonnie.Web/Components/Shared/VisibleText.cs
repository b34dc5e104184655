using System.Globalization;
using System.Text;

namespace Bonnie.Web.Components.Shared;

/// <summary>
/// Text from mail and from users (subjects, senders, attachment and folder names, timeline details) as officers must
/// read it: in the order it was written.
/// Unicode's bidirectional controls reorder what follows them on screen, so a subject or file name holding U+202E
/// before "gnp.exe" reads "exe.png" (a review saw exactly that on the message page and in the search grid). Each control
/// is shown as its code instead, where it stands; the stored and exported text is unchanged.
/// </summary>
public static class VisibleText
{
    public static string Visible(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(IsBidiControl))
        {
            return text ?? "";
        }
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (IsBidiControl(c))
            {
                sb.Append("[U+").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture)).Append(']');
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    // The embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), and the marks that steer them
    // (U+200E, U+200F, U+061C).
    private static bool IsBidiControl(char c) => c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';
}
