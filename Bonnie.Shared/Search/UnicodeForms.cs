using System.Text;

namespace Bonnie.Shared.Search;

/// <summary>Unicode normalization of text from mail and from officers, which need not be valid Unicode.</summary>
public static class UnicodeForms
{
    /// <summary>
    /// The text in <paramref name="form"/>; as it is when it is not valid Unicode (a lone surrogate), which
    /// <see cref="string.Normalize(NormalizationForm)"/> refuses: such text is searched and indexed as it came.
    /// </summary>
    public static string Normalized(string text, NormalizationForm form)
    {
        try
        {
            return text.Normalize(form);
        }
        catch (ArgumentException)
        {
            return text;
        }
    }
}
