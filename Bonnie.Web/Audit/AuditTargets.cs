using Bonnie.Web.Search;

namespace Bonnie.Web.Audit;

/// <summary>
/// Where a record's target can be opened: the event, message, folder, user or person an officer read, the search they ran.
/// A review found event ids of 64 hex digits in the log that could only be copied and searched for by hand.
/// </summary>
internal static class AuditTargets
{
    /// <summary>The address of <paramref name="target"/> for <paramref name="action"/>, or null when it names nothing to open.</summary>
    public static string? LinkOf(string action, string? target)
    {
        if (string.IsNullOrWhiteSpace(target))
        {
            return null;
        }
        return action switch
        {
            OfficerActions.EventViewed => ItemLinks.Event(target),
            OfficerActions.MessageViewed or OfficerActions.MessageDownloaded => ItemLinks.Message(target),
            OfficerActions.FolderViewed => ItemLinks.Folder(target),
            OfficerActions.SessionsViewed => ItemLinks.User(target),
            OfficerActions.PersonViewed => ItemLinks.Person(target),
            // An export of a selection has "selection" for its target, not a query.
            OfficerActions.Search => ItemLinks.Search(target),
            OfficerActions.Export when target != "selection" => ItemLinks.Search(target),
            _ => null,
        };
    }
}
