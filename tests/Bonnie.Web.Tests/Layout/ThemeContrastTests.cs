using Bonnie.Web.Components.Layout;
using MudBlazor.Utilities;

namespace Bonnie.Web.Tests.Layout;

/// <summary>
/// The colours that carry text read at WCAG AA (4.5:1): white on them (chips, filled buttons, the app bar) and them on
/// the light tint an alert lays under its text. MudBlazor's defaults gave 2.2:1 to 3.8:1 (a review measured them).
/// </summary>
public sealed class ThemeContrastTests
{
    public static TheoryData<string> Colours => ["Primary", "Warning", "Success", "Info", "Error"];

    [Theory]
    [MemberData(nameof(Colours))]
    public void Colour_CarriesTextAtWcagAA(string name)
    {
        var colour = (MudColor)typeof(MudBlazor.PaletteLight).GetProperty(name)!.GetValue(BonnieTheme.Theme.PaletteLight)!;
        var text = (colour.R, colour.G, colour.B);
        (byte, byte, byte) white = (255, 255, 255);
        // An alert's background: the colour at 6 % over white.
        var tint = (Over(colour.R), Over(colour.G), Over(colour.B));

        Assert.True(Contrast(white, text) >= 4.5, $"white on {name} {colour}: {Contrast(white, text):0.00}:1");
        Assert.True(Contrast(text, tint) >= 4.5, $"{name} {colour} on its tint: {Contrast(text, tint):0.00}:1");

        static byte Over(byte c) => (byte)Math.Round((255 * 0.94) + (c * 0.06));
    }

    private static double Contrast((byte R, byte G, byte B) a, (byte R, byte G, byte B) b)
    {
        var (la, lb) = (Luminance(a), Luminance(b));
        return (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
    }

    // WCAG 2's relative luminance.
    private static double Luminance((byte R, byte G, byte B) c)
    {
        static double Channel(byte v)
        {
            var s = v / 255.0;
            return s <= 0.03928 ? s / 12.92 : Math.Pow((s + 0.055) / 1.055, 2.4);
        }
        return (0.2126 * Channel(c.R)) + (0.7152 * Channel(c.G)) + (0.0722 * Channel(c.B));
    }
}
