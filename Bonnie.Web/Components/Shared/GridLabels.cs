namespace Bonnie.Web.Components.Shared;

/// <summary>Names a data grid's table for screen readers (and for tests that locate it by role and name).</summary>
internal static class GridLabels
{
    public static Dictionary<string, object> Labelled(string name) => new(StringComparer.Ordinal) { ["aria-label"] = name };
}
