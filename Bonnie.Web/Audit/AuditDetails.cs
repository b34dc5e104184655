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

    /// <summary>
    /// A record's details for reading: <c>key: value</c> pairs, empty ones left out, JSON's escapes undone (records
    /// before 2026-12-07 were stored with <c>\u00F6</c> for ö). The stored string stays what the chain's hash covers.
    /// </summary>
    public static string Readable(string details)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(details);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                return details;
            }
            return string.Join(" · ", document.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind != System.Text.Json.JsonValueKind.Null)
                .Select(p => p.Name + ": " + (p.Value.ValueKind == System.Text.Json.JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())));
        }
        catch (System.Text.Json.JsonException)
        {
            return details;
        }
    }
}
