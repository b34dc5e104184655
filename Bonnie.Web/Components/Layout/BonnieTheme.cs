using MudBlazor;

namespace Bonnie.Web.Components.Layout;

/// <summary>
/// The application's colours. Every colour that carries text (a chip's white label on it, an alert's text in it on its
/// light tint) reads at WCAG AA's 4.5:1 at least: MudBlazor's own orange, green and light blue gave 2.2:1 to 3.8:1 on the
/// restore and backfill warnings, the "must change password" and "Ready" tags (a review measured them).
/// </summary>
internal static class BonnieTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1f4e79",
            AppbarBackground = "#1f4e79",
            Warning = "#9a5b00",
            Success = "#1b7a3a",
            Info = "#0b62a8",
            Error = "#c62828",
        },
        Typography = new Typography { Default = new DefaultTypography { FontFamily = ["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"] } },
    };
}
