namespace Bonnie.Shared.Events;

/// <summary>
/// The RFC 5423 event types Cyrus sends, with the Cyrus 3.x and the 2.5/Kolab spellings folded onto one value, and
/// the one event Bonnie records itself (<see cref="MessageFound"/>).
/// </summary>
public enum EventType
{
    /// <summary>A name no Cyrus version sends; the notification is kept in quarantine, never dropped.</summary>
    Unknown = 0,
    Login,
    Logout,
    MessageNew,
    MessageAppend,
    MessageRead,
    MessageTrash,
    MessageExpunge,
    MessageExpire,
    /// <summary><c>vnd.cmu.MessageCopy</c> (3.x) or <c>MessageCopy</c> (2.5).</summary>
    MessageCopy,
    /// <summary><c>vnd.cmu.MessageMove</c> (3.x) or <c>MessageMove</c> (2.5).</summary>
    MessageMove,
    FlagsSet,
    FlagsClear,
    MailboxCreate,
    MailboxDelete,
    MailboxRename,
    MailboxSubscribe,
    /// <summary><c>MailboxUnSubscribe</c> (capital S, as Cyrus spells it).</summary>
    MailboxUnSubscribe,
    MailboxModseq,
    AclChange,
    QuotaChange,
    /// <summary><c>QuotaExceed</c> (RFC 5423) or <c>QuotaExceeded</c> (2.5).</summary>
    QuotaExceed,
    QuotaWithin,
    Calendar,
    CalendarAlarm,
    ApplePushService,
    MessagesUnscheduled,
    /// <summary>
    /// <c>vnd.bonnie.MessageFound</c>: Bonnie's backfill found a message at a folder and UID over IMAP, where no event
    /// had recorded it. Recorded by Bonnie, never taken from a notification: the parser does not know the name, so a
    /// notification claiming it is quarantined as unknown.
    /// </summary>
    MessageFound,
}
