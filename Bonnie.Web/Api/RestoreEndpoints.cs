using System.Globalization;
using System.Security.Claims;
using Bonnie.Pipeline.Restore;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Api;

/// <summary><c>POST /api/restore</c> (dry run or start), <c>GET /api/restore/{id}</c> (progress), <c>POST /api/restore/{id}/cancel</c>.</summary>
public static class RestoreEndpoints
{
    public static IEndpointRouteBuilder MapBonnieRestoreApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/restore").RequireAuthorization(BonniePolicies.CanRestore).AnswerBadInput();
        api.MapPost("", StartAsync);
        api.MapGet("", (RestoreJobs jobs) => Results.Ok(new { items = jobs.All.Select(RestoreJobDto.Of).ToList() }));
        api.MapGet("/{id}", (RestoreJobs jobs, string id) => jobs.Get(id) is { } job ? Results.Ok(RestoreJobDto.Of(job)) : NoJob(id));
        api.MapPost("/{id}/cancel", CancelAsync);
        return app;
    }

    private static async Task<IResult> StartAsync(RestoreJobs jobs, IOfficerAudit audit, IOptions<RestoreOptions> options,
        IAuthorizationService authorization, HttpContext http, CancellationToken cancellationToken)
    {
        var body = await ApiInput.JsonBodyAsync<RestoreRequestDto>(http.Request, cancellationToken);
        ApiInput.SelectionWithinLimit(body.MessageKeys);
        RestoreRequest request;
        try
        {
            request = body.ToRequest();
        }
        catch (ArgumentException ex)
        {
            return ApiErrors.Answer(StatusCodes.Status400BadRequest, ex.Message);
        }
        var intoAnother = await RestoreStarter.MayRestoreIntoAnotherMailboxAsync(authorization, http.User);
        var result = await RestoreStarter.StartAsync(request, jobs, audit, options.Value, Officer(http.User), http.Connection.RemoteIpAddress?.ToString(),
            intoAnother, cancellationToken);
        return result switch
        {
            RestoreStart.Refused r => ApiErrors.Answer(r.Status, r.Error),
            RestoreStart.Planned p => Results.Ok(RestorePlanDto.Of(p.Plan)),
            RestoreStart.Started s => Results.Accepted($"/api/restore/{s.Job.Id}", RestoreJobDto.Of(s.Job)),
            _ => throw new InvalidOperationException(),
        };
    }

    private static async Task<IResult> CancelAsync(RestoreJobs jobs, IOfficerAudit audit, HttpContext http, string id, CancellationToken cancellationToken)
    {
        if (jobs.Get(id) is not { } job)
        {
            return NoJob(id);
        }
        await audit.RecordAsync(new OfficerAuditEntry(Officer(http.User), OfficerActions.Restore, id,
            new Dictionary<string, string?> { ["stage"] = "cancelled" }, http.Connection.RemoteIpAddress?.ToString()), cancellationToken);
        job.Cancel();
        return Results.Accepted($"/api/restore/{id}", RestoreJobDto.Of(job));
    }

    private static IResult NoJob(string id) => ApiErrors.NotFound($"No restore job with id {ApiErrors.Quote(id)}.");

    internal static string Officer(ClaimsPrincipal user) => user.Identity?.Name ?? "?";
}

/// <summary>Plans, audits and starts a restore; shared by the API and the restore page.</summary>
internal static class RestoreStarter
{
    /// <param name="mayRestoreIntoAnotherMailbox">
    /// Whether the officer may put mail into a mailbox other than the one it came from (administrators): a Restorer puts
    /// mail back where it was lost; into someone else's mailbox it would hand one person's mail to another.
    /// </param>
    public static async Task<RestoreStart> StartAsync(RestoreRequest request, RestoreJobs jobs, IOfficerAudit audit, RestoreOptions options,
        string officer, string? client, bool mayRestoreIntoAnotherMailbox, CancellationToken cancellationToken)
    {
        RestorePlan plan;
        try
        {
            plan = await jobs.PlanAsync(request, cancellationToken);
        }
        catch (RestoreSourceException ex)
        {
            return new RestoreStart.Refused(ex.Message, ex.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest);
        }
        if (request.TargetFolder is { } targetFolder && !mayRestoreIntoAnotherMailbox && OtherMailboxes(plan, targetFolder) is { Count: > 0 } others)
        {
            var into = CyrusMailboxName.OwnerOf(targetFolder) ?? targetFolder;
            // Refused before anything is planned or sent, and recorded: an attempt to move one person's mail to another.
            await audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Restore, targetFolder, new Dictionary<string, string?>
            {
                ["stage"] = "refused",
                ["scope"] = request.Scope.ToString(),
                ["selection"] = Selection(request),
                ["from"] = string.Join(", ", others),
                ["reason"] = "another mailbox",
            }, client), cancellationToken);
            return new RestoreStart.Refused(
                $"Restoring mail of {string.Join(", ", others)} into {into}'s mailbox needs the Administrator role: a Restorer puts mail back into the mailbox it came from.",
                StatusCodes.Status403Forbidden);
        }
        if (!request.DryRun && !options.Imap.IsConfigured)
        {
            return new RestoreStart.Refused("Restore is not configured: set Bonnie:Restore:Imap:Host, AdminUser and Password.", StatusCodes.Status503ServiceUnavailable);
        }
        if (!request.DryRun && plan.Items.Count == 0)
        {
            // A job that can restore nothing is refused with why, not started (a review saw a 202 for unknown keys alone).
            var why = plan.Unrestorable.Count == 0 ? "nothing was recorded there" : string.Join("; ", plan.Unrestorable.Take(5).Select(u => $"{u.MessageKey}: {u.Reason}"));
            // Recorded like any other restore asked for: an officer tried to put this back (a review found no record).
            await audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Restore, Selection(request), new Dictionary<string, string?>
            {
                ["stage"] = "refused",
                ["scope"] = request.Scope.ToString(),
                ["reason"] = "nothing to restore: " + why,
            }, client), cancellationToken);
            return new RestoreStart.Refused($"Nothing to restore: {why}.", StatusCodes.Status400BadRequest);
        }
        var details = new Dictionary<string, string?>
        {
            ["stage"] = request.DryRun ? "dry-run" : "started",
            ["scope"] = request.Scope.ToString(),
            ["at"] = plan.At?.ToString("o", CultureInfo.InvariantCulture),
            ["targetFolder"] = request.TargetFolder,
            ["messages"] = plan.Items.Count.ToString(CultureInfo.InvariantCulture),
            ["bytes"] = plan.TotalBytes.ToString(CultureInfo.InvariantCulture),
            ["unrestorable"] = plan.Unrestorable.Count.ToString(CultureInfo.InvariantCulture),
            ["folders"] = string.Join("; ", plan.Folders.Select(f => f.Folder)),
        };
        var target = Selection(request);
        if (request.DryRun)
        {
            await audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Restore, target, details, client), cancellationToken);
            return new RestoreStart.Planned(plan);
        }
        // Recorded before anything is sent to Cyrus: the audit never misses a restore that happened.
        var job = jobs.StartAsync(officer, request, plan, start => audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Restore, target,
            new Dictionary<string, string?>(details) { ["job"] = start.Id }, client), cancellationToken),
            end => audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Restore, target, Outcome(end), client), CancellationToken.None));
        return new RestoreStart.Started(await job);
    }

    /// <summary>
    /// How a restore ended, for the officers' audit log: the permanent record of what Bonnie put into which mailbox. Cyrus
    /// reports the restore's own session as the owner's (it acts with the owner's rights), so this is where the trail's
    /// MessageAppend events of a restore are told from the owner's own: folder, UID and GUID of each message stored.
    /// </summary>
    internal static Dictionary<string, string?> Outcome(RestoreJob job)
    {
        const int Listed = 1000;
        var restored = job.Restored;
        // One message a line: folder, UID ("?" when Cyrus did not say), GUID and key, separated by tabs (a folder name may hold spaces).
        var lines = restored.Take(Listed).Select(r => $"{r.Folder}\t{r.Uid?.ToString(CultureInfo.InvariantCulture) ?? "?"}\t{r.EmailId}\t{r.MessageKey}").ToList();
        if (restored.Count > Listed)
        {
            lines.Add($"... and {restored.Count - Listed} more");
        }
        return new Dictionary<string, string?>
        {
            ["stage"] = job.State switch
            {
                RestoreJobState.Completed when job.Progress.Failed > 0 => "completed-with-failures",
                var state => state.ToString().ToLowerInvariant(),
            },
            ["job"] = job.Id,
            ["restored"] = job.Progress.Restored.ToString(CultureInfo.InvariantCulture),
            ["alreadyPresent"] = job.Progress.AlreadyPresent.ToString(CultureInfo.InvariantCulture),
            ["failed"] = job.Progress.Failed.ToString(CultureInfo.InvariantCulture),
            ["error"] = job.Error,
            ["createdFolders"] = job.Result is { CreatedFolders.Count: > 0 } r ? string.Join("; ", r.CreatedFolders) : null,
            ["failures"] = job.Result is { Failures.Count: > 0 } f ? string.Join("\n", f.Failures.Take(100).Select(x => $"{x.MessageKey}: {x.Reason}")) : null,
            // "stored", not "messages": the record of a start counts its planned messages under that name.
            ["stored"] = string.Join("\n", lines),
        };
    }

    /// <summary>What a restore request selects, as its audit records name it.</summary>
    private static string Selection(RestoreRequest request) => request.Scope switch
    {
        RestoreScope.Folder => "folder " + request.FolderId,
        RestoreScope.Mailbox => "mailbox " + request.Mailbox,
        _ => "messages " + string.Join(",", request.MessageKeys.Take(50)),
    };

    /// <summary>Whether the officer may restore into a mailbox other than the one the mail came from (administrators).</summary>
    public static async Task<bool> MayRestoreIntoAnotherMailboxAsync(IAuthorizationService authorization, ClaimsPrincipal officer) =>
        (await authorization.AuthorizeAsync(officer, BonniePolicies.CanAdminister)).Succeeded;

    /// <summary>
    /// The mailboxes, other than the target's, the planned messages come from. A source that is not a user's mailbox (a
    /// shared folder) or has no recorded name counts as another mailbox (a review found such a message could be put anywhere).
    /// </summary>
    private static List<string> OtherMailboxes(RestorePlan plan, string targetFolder)
    {
        var into = CyrusMailboxName.OwnerOf(targetFolder);
        return plan.Items.Select(i => i.FromMailbox ?? "a folder Bonnie has no mailbox for")
            .Where(o => !string.Equals(o, into, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
    }
}

internal abstract record RestoreStart
{
    public sealed record Refused(string Error, int Status) : RestoreStart;
    public sealed record Planned(RestorePlan Plan) : RestoreStart;
    public sealed record Started(RestoreJob Job) : RestoreStart;
}

public sealed record RestoreRequestDto(
    string Scope,
    IReadOnlyList<string>? MessageKeys,
    string? FolderId,
    string? Mailbox,
    DateTimeOffset? At,
    string? TargetFolder,
    bool DryRun)
{
    internal RestoreRequest ToRequest() => new()
    {
        Scope = RestoreScopes.TryParse(Scope, out var s)
            ? s
            : throw new ArgumentException($"scope must be messages, folder or mailbox (was '{Scope}')."),
        MessageKeys = MessageKeys ?? [],
        FolderId = FolderId,
        Mailbox = Mailbox,
        At = At,
        TargetFolder = string.IsNullOrWhiteSpace(TargetFolder) ? null : TargetFolder.Trim(),
        DryRun = DryRun,
    };
}

public sealed record RestorePlanDto(DateTimeOffset? At, int Messages, long Bytes, IReadOnlyList<RestoreFolderSummary> Folders,
    IReadOnlyList<RestoreSkip> Unrestorable)
{
    internal static RestorePlanDto Of(RestorePlan p) => new(p.At, p.Items.Count, p.TotalBytes, p.Folders, p.Unrestorable);
}

public sealed record RestoreJobDto(string Id, string Officer, string State, DateTimeOffset Started, DateTimeOffset? Finished,
    RestoreProgress Progress, RestorePlanDto Plan, string? Error, string? ErrorKind, IReadOnlyList<RestoreSkip>? Failures, IReadOnlyList<string>? CreatedFolders)
{
    internal static RestoreJobDto Of(RestoreJob j) => new(j.Id, j.Officer, j.State.ToString(), j.Started, j.Finished, j.Progress,
        RestorePlanDto.Of(j.Plan), j.Error, j.ErrorKind, j.Result?.Failures, j.Result?.CreatedFolders);
}
