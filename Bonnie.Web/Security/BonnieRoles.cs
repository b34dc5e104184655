namespace Bonnie.Web.Security;

/// <summary>
/// The officers' roles. Each includes the rights of the ones before it:
/// Auditor (search, view) &lt; Investigator (export) &lt; Restorer (restore) &lt; Administrator (officers, keys, backfill, the
/// officers' audit log).
/// </summary>
public static class BonnieRoles
{
    public const string Auditor = nameof(Auditor);
    public const string Investigator = nameof(Investigator);
    public const string Restorer = nameof(Restorer);
    public const string Administrator = nameof(Administrator);

    public static IReadOnlyList<string> All { get; } = [Auditor, Investigator, Restorer, Administrator];

    /// <summary>
    /// What a role may do, in a line, for whoever picks it (the officers page). Kept here, beside the roles, so a change to
    /// the policies below is made next to the words that promise them.
    /// </summary>
    public static string Description(string role) => role switch
    {
        Auditor => "Search and read events, messages and their history. Cannot export, restore or administer.",
        Investigator => "As Auditor, and can also export evidence.",
        Restorer => "As Investigator, and can also restore messages into the mailbox they came from.",
        Administrator => "Everything, including officers, API keys, backfill, retrying failed jobs, restoring into another mailbox and the officers' audit log.",
        _ => "",
    };
}

/// <summary>Authorization policy names; endpoints and pages require one of these, never a bare role.</summary>
public static class BonniePolicies
{
    /// <summary>Search and view: every role.</summary>
    public const string CanSearch = nameof(CanSearch);
    /// <summary>Export evidence: Investigator and above.</summary>
    public const string CanExport = nameof(CanExport);
    /// <summary>Restore into mailboxes: Restorer and above.</summary>
    public const string CanRestore = nameof(CanRestore);
    /// <summary>Settings, accounts, API keys, retrying failed jobs: Administrator.</summary>
    public const string CanAdminister = nameof(CanAdminister);
}
