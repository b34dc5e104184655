namespace Bonnie.Pipeline.Restore;

/// <summary>What a restore takes: a selection of messages, a folder, or a whole mailbox.</summary>
public enum RestoreScope
{
    Messages,
    Folder,
    Mailbox,
}

public static class RestoreScopes
{
    /// <summary>
    /// A scope by its name only (any case). <see cref="Enum.TryParse{TEnum}(string?, bool, out TEnum)"/> also takes
    /// numbers and comma lists ("1", "Folder,Mailbox" is Mailbox): a restore must never run on a scope nobody named.
    /// </summary>
    public static bool TryParse(string? text, out RestoreScope scope)
    {
        foreach (var candidate in Enum.GetValues<RestoreScope>())
        {
            if (string.Equals(candidate.ToString(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                scope = candidate;
                return true;
            }
        }
        scope = default;
        return false;
    }
}

/// <summary>
/// One restore as an officer asked for it. <see cref="At"/> is the moment whose state is restored; when null, a
/// folder that still exists is taken as it is now and a deleted one as it was just before its deletion, and a
/// message goes back to the last folder it lived in.
/// </summary>
public sealed record RestoreRequest
{
    public required RestoreScope Scope { get; init; }
    /// <summary>For <see cref="RestoreScope.Messages"/>: message keys (<see cref="Bonnie.Shared.Storage.MessageObject.Key"/>).</summary>
    public IReadOnlyList<string> MessageKeys { get; init; } = [];
    /// <summary>For <see cref="RestoreScope.Folder"/>: the folder's id (Cyrus' mailboxID).</summary>
    public string? FolderId { get; init; }
    /// <summary>For <see cref="RestoreScope.Mailbox"/>: the owner's login (<c>alice@example.org</c>).</summary>
    public string? Mailbox { get; init; }
    public DateTimeOffset? At { get; init; }
    /// <summary>
    /// Admin-form name of a folder to restore into instead of the original (<c>user/alice/Restored@example.org</c>);
    /// a mailbox's folders are recreated beneath it.
    /// </summary>
    public string? TargetFolder { get; init; }
    public bool DryRun { get; init; }
}

/// <summary>One message to put back: where, with which flags and internal date, from which stored payload.</summary>
/// <param name="FromMailbox">The owner of the place it is restored from (its source folder's), null for a shared folder
/// or one with no recorded name: who may restore it elsewhere depends on it.</param>
public sealed record RestoreItem(
    string MessageKey,
    string PayloadSha256,
    long Size,
    string TargetFolder,
    IReadOnlyList<string> Flags,
    DateTimeOffset InternalDate,
    string? Subject,
    string? FromMailbox = null);

/// <summary>A message that cannot be restored, and why (its payload was never kept, for one).</summary>
public sealed record RestoreSkip(string MessageKey, string Reason);

/// <summary>One message the restore put into Cyrus and found byte-exact there: where, and under which UID when Cyrus said.</summary>
public sealed record RestoredMessage(string MessageKey, string Folder, string EmailId, uint? Uid);

/// <summary>What a restore would do: per target folder, how many messages and how many bytes.</summary>
public sealed record RestorePlan(DateTimeOffset? At, IReadOnlyList<RestoreItem> Items, IReadOnlyList<RestoreSkip> Unrestorable)
{
    public long TotalBytes => Items.Sum(i => i.Size);

    public IReadOnlyList<RestoreFolderSummary> Folders => Items
        .GroupBy(i => i.TargetFolder, StringComparer.Ordinal)
        .Select(g => new RestoreFolderSummary(g.Key, g.Count(), g.Sum(i => i.Size)))
        .OrderBy(f => f.Folder, StringComparer.Ordinal)
        .ToList();
}

public sealed record RestoreFolderSummary(string Folder, int Messages, long Bytes);

/// <summary>Counts so far, reported after every batch.</summary>
public sealed record RestoreProgress(int Total, int Restored, int AlreadyPresent, int Failed, long BytesRestored)
{
    public int Done => Restored + AlreadyPresent + Failed;
}

/// <summary>What a restore did. <see cref="Failures"/> names messages Cyrus refused or stored differently.</summary>
public sealed record RestoreResult(RestoreProgress Progress, IReadOnlyList<RestoreSkip> Failures, IReadOnlyList<string> CreatedFolders);
