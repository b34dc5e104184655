namespace Bonnie.Pipeline.Restore;

/// <summary>A restore that cannot go on, with a message an officer can act on.</summary>
public abstract class RestoreException : Exception
{
    protected RestoreException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>The mailbox (or the owner's INBOX a folder would be created under) does not exist on the server.</summary>
public sealed class MailboxNotFoundException(string mailbox, string message, Exception? innerException = null)
    : RestoreException(message, innerException)
{
    public string Mailbox { get; } = mailbox;
}

/// <summary>Cyrus refused the APPEND with <c>NO [OVERQUOTA]</c>: the owner's quota is full.</summary>
public sealed class OverQuotaException(string mailbox, string message, Exception? innerException = null)
    : RestoreException(message, innerException)
{
    public string Mailbox { get; } = mailbox;
}

/// <summary>The IMAP server cannot be reached, refused the admin's credentials, or restore is not configured.</summary>
public sealed class RestoreUnavailableException(string message, Exception? innerException = null)
    : RestoreException(message, innerException);

/// <summary>What the restore would need is not in the store (unknown message or folder, payload never kept).</summary>
public sealed class RestoreSourceException(string message, bool notFound = false) : RestoreException(message)
{
    /// <summary>The folder or mailbox named is not recorded at all (the API answers 404), rather than named wrongly.</summary>
    public bool NotFound { get; } = notFound;
}
