using System.Security.Claims;
using Bonnie.Pipeline.Backfill;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;

namespace Bonnie.Web.Api;

/// <summary>
/// <c>POST /api/backfill</c> starts a backfill of the mail already on the server (administrators only);
/// <c>GET /api/backfill</c> shows its progress.
/// </summary>
public static class BackfillEndpoints
{
    public static IEndpointRouteBuilder MapBonnieBackfill(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/backfill").RequireAuthorization(BonniePolicies.CanAdminister);
        group.MapGet("", (BackfillRunner runner) => Results.Ok(runner.Progress));
        group.MapPost("", Start).DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> Start(BackfillRunner runner, IOfficerAudit audit, ClaimsPrincipal user, HttpContext context,
        CancellationToken cancellationToken)
    {
        if (!runner.IsConfigured)
        {
            // Not the request's fault but the server's setup: 503, as restore answers when it is not configured.
            return ApiErrors.Answer(StatusCodes.Status503ServiceUnavailable,
                "The backfill reads mailboxes as the Cyrus admin: set Bonnie:Payloads:Imap:Host and its password first.");
        }
        if (!runner.TryStart())
        {
            // The progress's own fields stay at the top, as before the error was added: a client may read its state.
            return ApiErrors.Answer(StatusCodes.Status409Conflict, "A backfill is already running; follow it with GET /api/backfill.", runner.Progress);
        }
        await audit.RecordAsync(new OfficerAuditEntry(user.Identity?.Name ?? "unknown", OfficerActions.BackfillStarted,
            ClientAddress: context.Connection.RemoteIpAddress?.ToString()), cancellationToken);
        return Results.Accepted("/api/backfill", runner.Progress);
    }
}
