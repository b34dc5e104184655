namespace Bonnie.Web.Audit;

/// <summary>
/// Records what an officer did, append-only and hash-chained. Call it for every sign-in, search, message
/// view, export and restore, before showing or returning the result.
/// </summary>
public interface IOfficerAudit
{
    /// <summary>Appends <paramref name="entry"/> to the chain; returns the record as stored.</summary>
    Task<OfficerAuditRecord> RecordAsync(OfficerAuditEntry entry, CancellationToken cancellationToken = default);
}

/// <summary>What to record.</summary>
/// <param name="Officer">The officer's user name (or <c>api:&lt;key name&gt;</c>); for a failed sign-in, the name typed.</param>
/// <param name="Action">One of <see cref="OfficerActions"/>.</param>
/// <param name="Target">What was acted on: a query, a message id, an officer's name; null when nothing.</param>
/// <param name="Details">Further facts; stored as canonical JSON (keys sorted).</param>
/// <param name="ClientAddress">The officer's IP address as the host saw it.</param>
public sealed record OfficerAuditEntry(
    string Officer,
    string Action,
    string? Target = null,
    IReadOnlyDictionary<string, string?>? Details = null,
    string? ClientAddress = null);

/// <summary>One stored record of the chain.</summary>
public sealed record OfficerAuditRecord(
    long Sequence,
    DateTimeOffset Time,
    string Officer,
    string Action,
    string? Target,
    string Details,
    string? ClientAddress,
    string PreviousHash,
    string Hash);

/// <summary>The actions the officers' audit log knows; others may add their own in the same style.</summary>
public static class OfficerActions
{
    public const string SignIn = "sign-in";
    public const string SignInFailed = "sign-in-failed";
    public const string SignInLockedOut = "sign-in-locked-out";
    public const string SignOut = "sign-out";
    public const string PasswordChanged = "password-changed";
    public const string OfficerCreated = "officer-created";
    public const string OfficerRoleChanged = "officer-role-changed";
    public const string OfficerUnlocked = "officer-unlocked";
    public const string OfficerDisabled = "officer-disabled";
    public const string OfficerEnabled = "officer-enabled";
    /// <summary>An administrator gave the officer (the target) a one-time password.</summary>
    public const string OfficerPasswordSet = "officer-password-set";
    public const string AuditVerified = "audit-verified";
    /// <summary>The audit log was read over the API or downloaded (Details: the filter and the format).</summary>
    public const string AuditRead = "audit-read";
    public const string Search = "search";
    public const string MessageViewed = "message-viewed";
    /// <summary>One event was read with its raw notification (Target: the event id).</summary>
    public const string EventViewed = "event-viewed";
    /// <summary>A folder's history was read (Target: the folder id).</summary>
    public const string FolderViewed = "folder-viewed";
    /// <summary>A user's sessions were read (Target: the login).</summary>
    public const string SessionsViewed = "sessions-viewed";
    /// <summary>A page of the quarantine (unreadable or failed notifications, raw) was read.</summary>
    public const string QuarantineViewed = "quarantine-viewed";
    /// <summary>A person's names were read (Target: the person id).</summary>
    public const string PersonViewed = "person-viewed";
    /// <summary>The raw .eml or an attachment of a message was downloaded.</summary>
    public const string MessageDownloaded = "message-downloaded";
    public const string Export = "export";
    public const string Restore = "restore";
    /// <summary>An officer asked for a failed job to be retried (Target: the job id; Details: outcome).</summary>
    public const string RetryJob = "retry-job";
    public const string BackfillStarted = "backfill-started";
}
