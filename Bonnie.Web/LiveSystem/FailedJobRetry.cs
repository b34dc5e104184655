using System.Security.Claims;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Authorization;

namespace Bonnie.Web.LiveSystem;

/// <summary>How an officer's retry of a failed job ended.</summary>
internal enum RetryOutcome
{
    /// <summary>The job is PENDING again and goes to a worker.</summary>
    Retried,
    /// <summary>No failed job has that id (already retried, or purged).</summary>
    NotFailed,
    /// <summary>The officer is not an Administrator.</summary>
    Refused,
    /// <summary>The broker does not run in this process.</summary>
    NoBroker,
}

/// <summary>
/// Retries a failed job for an officer: the Administrator check is made here, on the server, whatever the page
/// showed, and every attempt (refused ones too) goes to the officers' audit log.
/// </summary>
internal sealed class FailedJobRetry(IFailedJobQueue queue, IAuthorizationService authorization, IOfficerAudit audit)
{
    public async Task<bool> MayRetryAsync(ClaimsPrincipal officer) =>
        (await authorization.AuthorizeAsync(officer, BonniePolicies.CanAdminister).ConfigureAwait(false)).Succeeded;

    public async Task<RetryOutcome> RetryAsync(ClaimsPrincipal officer, string jobId, string? clientAddress, CancellationToken cancellationToken)
    {
        RetryOutcome outcome;
        if (!await MayRetryAsync(officer).ConfigureAwait(false))
        {
            outcome = RetryOutcome.Refused;
        }
        else if (!queue.Available)
        {
            outcome = RetryOutcome.NoBroker;
        }
        else
        {
            outcome = await queue.RetryAsync(jobId, cancellationToken).ConfigureAwait(false) ? RetryOutcome.Retried : RetryOutcome.NotFailed;
        }
        await audit.RecordAsync(new OfficerAuditEntry(
            officer.Identity?.Name ?? "?",
            OfficerActions.RetryJob,
            jobId,
            new Dictionary<string, string?> { ["outcome"] = OutcomeName(outcome) },
            clientAddress), cancellationToken).ConfigureAwait(false);
        return outcome;
    }

    internal static string OutcomeName(RetryOutcome outcome) => outcome switch
    {
        RetryOutcome.Retried => "retried",
        RetryOutcome.NotFailed => "not-failed",
        RetryOutcome.Refused => "refused",
        RetryOutcome.NoBroker => "no-broker",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };
}
