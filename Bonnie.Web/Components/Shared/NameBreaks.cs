using Microsoft.AspNetCore.Components;

namespace Bonnie.Web.Components.Shared;

/// <summary>
/// Where logins, folder names and subjects may break when their column is narrow: after "@", "/" and "." and between
/// words ("user12@" / "example.org"), never inside a piece ("user12@exampl" / "e.org", seen by reviews in Chromium at
/// 1024 to 1440 px on the search grid and the item pages). The cell's class (<c>bonnie-pieces-whole</c>) turns off the
/// break-anywhere of its table; <see cref="Breakable"/> puts a <c>&lt;wbr&gt;</c> after each separator.
/// </summary>
internal static class NameBreaks
{
    // Separators a login or folder name may break after.
    private static readonly char[] Separators = ['@', '/', '.'];

    // Where a name or a subject breaks anyway: spaces (a subject's words: "shipmen" / "t" at 1024 px, a review).
    private static readonly char[] Breaks = ['@', '/', '.', ' '];

    // A name breaks only at its separators when each piece between them is at most this long, so the column can still
    // shrink to a piece; a name with a longer piece (a hostile login, thousands of characters without one) breaks
    // anywhere, as before, rather than widen the table.
    private const int LongestPieceKeptWhole = 32;

    /// <summary>The cell class that keeps the pieces (or words) of <paramref name="text"/> whole, when they are short enough.</summary>
    public static string PiecesKeptWhole(string? text) =>
        text is not null && text.Split(Breaks).Max(p => p.Length) <= LongestPieceKeptWhole ? "bonnie-pieces-whole" : "";

    /// <summary>A name, shown as <see cref="VisibleText.Visible"/> does, with a break allowed after each separator.</summary>
    public static RenderFragment Breakable(string? name) => builder =>
    {
        name ??= "";
        var start = 0;
        for (var i = name.IndexOfAny(Separators); i >= 0; i = name.IndexOfAny(Separators, start))
        {
            builder.AddContent(0, VisibleText.Visible(name[start..(i + 1)]));
            builder.AddMarkupContent(1, "<wbr>");
            start = i + 1;
        }
        builder.AddContent(2, VisibleText.Visible(name[start..]));
    };
}
