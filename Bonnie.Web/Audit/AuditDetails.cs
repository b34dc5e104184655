using System.Globalization;

namespace Bonnie.Web.Audit;

/// <summary>Details recorded the same way wherever the read happens, so one query of the log finds pages and API alike.</summary>
internal static class AuditDetails
{
    /// <summary>
    /// One page of a paged read: its size and the cursor it starts from (null on the first page), with any
    /// <paramref name="more"/> facts of that read.
    /// </summary>
    public static Dictionary<string, string?> PagedRead(int limit, string? cursor, params ReadOnlySpan<(string Key, string? Value)> more)
    {
        var details = new Dictionary<string, string?>
        {
            ["limit"] = limit.ToString(CultureInfo.InvariantCulture),
            ["cursor"] = cursor,
        };
        foreach (var (key, value) in more)
        {
            details[key] = value;
        }
        return details;
    }
}
