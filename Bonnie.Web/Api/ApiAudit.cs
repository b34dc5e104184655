using Bonnie.Web.Audit;

namespace Bonnie.Web.Api;

/// <summary>
/// Records an API read of evidence in the officers' audit, as the pages record theirs, before the answer is sent:
/// the actor is the principal's name (<c>api:&lt;key name&gt;</c> for a key, never the key itself) and <c>via</c>
/// says it came through the API.
/// </summary>
internal static class ApiAudit
{
    public static Task RecordApiReadAsync(this IOfficerAudit audit, HttpContext http, string action, string? target,
        IReadOnlyDictionary<string, string?>? details = null, CancellationToken cancellationToken = default)
    {
        var facts = new Dictionary<string, string?>(details ?? new Dictionary<string, string?>()) { ["via"] = "api" };
        return audit.RecordAsync(new OfficerAuditEntry(http.User.Identity?.Name ?? "?", action, target, facts,
            http.Connection.RemoteIpAddress?.ToString()), cancellationToken);
    }
}
