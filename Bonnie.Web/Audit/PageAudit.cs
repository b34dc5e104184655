using Bonnie.Web.Officers;
using Microsoft.AspNetCore.Components.Authorization;

namespace Bonnie.Web.Audit;

/// <summary>
/// Records a page's read of evidence in the officers' audit, under the action the API uses for the same read, so one
/// query of the log finds both. Pages call it when they load the data (once the circuit is live), never on a render.
/// </summary>
internal static class PageAudit
{
    public static async Task RecordPageReadAsync(this IOfficerAudit audit, Task<AuthenticationState> authentication,
        OfficerCircuit circuit, string action, string? target, IReadOnlyDictionary<string, string?>? details = null,
        CancellationToken cancellationToken = default)
    {
        var officer = (await authentication).User.Identity?.Name ?? "?";
        await audit.RecordAsync(new OfficerAuditEntry(officer, action, target, details, circuit.ClientAddress), cancellationToken);
    }
}
