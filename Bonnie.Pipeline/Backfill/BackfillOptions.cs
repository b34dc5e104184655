using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Backfill;

/// <summary>
/// The <c>Bonnie:Backfill</c> section. The IMAP connection is the admin's from <c>Bonnie:Payloads:Imap</c>: the
/// backfill reads mailboxes the way the worker's IMAP payload source does.
/// </summary>
public sealed class BackfillOptions
{
    public const string Section = "Bonnie:Backfill";

    /// <summary>
    /// Message payloads fetched per second at most, so the mail server stays responsive while users work; messages
    /// already archived are not fetched again and do not count.
    /// </summary>
    public double MessagesPerSecond { get; set; } = 20;

    /// <summary>Messages written to the store (and checkpointed) together.</summary>
    public int BatchSize { get; set; } = 25;

    /// <summary>
    /// Cyrus' <c>deletedprefix</c>: with <c>delete_mode: delayed</c>, a deleted folder lives on below it (keeping its
    /// mailbox id) until <c>cyr_expire</c> removes it. Not walked: a review found deleted folders recorded as existing,
    /// with no owner, and ACL grants for them in the history of the folder deleted. Empty walks them too.
    /// </summary>
    public string DeletedPrefix { get; set; } = "DELETED";
}

internal sealed class ValidateBackfillOptions : IValidateOptions<BackfillOptions>
{
    public ValidateOptionsResult Validate(string? name, BackfillOptions options)
    {
        var errors = new List<string>();
        if (!(options.MessagesPerSecond > 0 && options.MessagesPerSecond <= 10_000))
        {
            errors.Add($"{BackfillOptions.Section}:MessagesPerSecond must be above 0 and at most 10000 (was {options.MessagesPerSecond}).");
        }
        if (options.BatchSize is < 1 or > 1000)
        {
            errors.Add($"{BackfillOptions.Section}:BatchSize must be between 1 and 1000 (was {options.BatchSize}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
