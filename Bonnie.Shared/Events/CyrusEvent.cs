using System.Collections.ObjectModel;
using System.Text.Json;

namespace Bonnie.Shared.Events;

/// <summary>
/// One notification from Cyrus, parsed. Every field Cyrus may leave out is nullable or empty; the bytes Cyrus
/// sent are kept unchanged in <see cref="Raw"/> for evidence, and fields this model does not know are kept in
/// <see cref="Extra"/>.
/// </summary>
public sealed record CyrusEvent
{
    public required EventType Type { get; init; }

    /// <summary>The event name exactly as sent (<c>vnd.cmu.MessageMove</c>, <c>QuotaExceeded</c>...).</summary>
    public required string Name { get; init; }

    /// <summary>The notification's own time, in UTC, to the millisecond.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The login name that caused the event; null when Cyrus sent <c>""</c> (MailboxModseq, cyr_expire).</summary>
    public string? User { get; init; }
    public string? Service { get; init; }
    /// <summary><c>vnd.cmu.sessionId</c>: ties the events of one IMAP/LMTP session together.</summary>
    public string? SessionId { get; init; }
    public string? ClientIP { get; init; }
    public int? ClientPort { get; init; }
    public string? ServerDomain { get; init; }
    public int? ServerPort { get; init; }
    public string? ServerFqdn { get; init; }
    public int? Pid { get; init; }

    /// <summary>The mailbox from <c>uri</c>; null for events that name none (Login with a bare server URI).</summary>
    public MailboxUri? Mailbox { get; init; }
    /// <summary>The mailbox's unique id (<c>mailboxID</c> when it is not a URI).</summary>
    public string? MailboxId { get; init; }
    /// <summary>
    /// <c>mailboxID</c> when it is a URI (Cyrus 2.5 sent the mailbox's URI there). <see cref="Mailbox"/> falls back to
    /// it when the event has no <c>uri</c>.
    /// </summary>
    public MailboxUri? MailboxIdUri { get; init; }
    /// <summary>Copy, move and rename: the source mailbox (<c>oldMailboxID</c>, a URI).</summary>
    public MailboxUri? OldMailbox { get; init; }
    /// <summary><c>oldMailboxID</c> when it is a unique id rather than a URI.</summary>
    public string? OldMailboxId { get; init; }
    public SequenceSet? UidSet { get; init; }
    /// <summary>Copy and move: the UIDs in the source mailbox (<c>vnd.cmu.oldUidset</c>).</summary>
    public SequenceSet? OldUidSet { get; init; }

    /// <summary><c>vnd.cmu.midset</c>.</summary>
    public IReadOnlyList<string> MessageIds { get; init; } = [];
    /// <summary><c>vnd.cmu.emailid</c>: <c>M</c> + the first 24 hex digits of the message GUID (SHA-1 of the file).</summary>
    public string? EmailId { get; init; }
    public string? ThreadId { get; init; }
    /// <summary><c>flagNames</c>, split on spaces, as sent (<c>\Seen</c>, <c>$Label1</c>).</summary>
    public IReadOnlyList<string> Flags { get; init; } = [];
    /// <summary><c>vnd.cmu.mailboxACL</c>: the mailbox's whole ACL after the event.</summary>
    public IReadOnlyList<AclEntry> Acl { get; init; } = [];
    public string? AclSubject { get; init; }
    public string? AclRights { get; init; }
    public string? MailboxType { get; init; }

    public long? DiskQuota { get; init; }
    public long? DiskUsed { get; init; }
    public long? MaxMessages { get; init; }
    public long? Messages { get; init; }
    public long? UnseenMessages { get; init; }
    public long? UidNext { get; init; }
    public long? Modseq { get; init; }
    public long? MessageSize { get; init; }

    /// <summary><c>vnd.cmu.envelope</c>, decoded when first read (its syntax was checked by the parser).</summary>
    public Envelope? Envelope
    {
        get => _envelope is Deferred<Envelope> deferred ? deferred.Value : (Envelope?)_envelope;
        init => _envelope = value;
    }

    // An Envelope, or a Deferred<Envelope> from the parser that builds one on first read.
    private readonly object? _envelope;

    /// <summary>For the parser: an <see cref="Envelope"/>, or a <see cref="Deferred{T}"/> of one.</summary>
    internal object? EnvelopeSource
    {
        init => _envelope = value;
    }
    /// <summary>The IMAP BODYSTRUCTURE, kept as Cyrus sent it.</summary>
    public string? BodyStructure
    {
        get => _bodyStructure is Deferred<string> deferred ? deferred.Value : (string?)_bodyStructure;
        init => _bodyStructure = value;
    }

    // A string, or a Deferred<string> from the parser that becomes one on first read.
    private readonly object? _bodyStructure;

    /// <summary>For the parser: the text, or a <see cref="Deferred{T}"/> of it.</summary>
    internal object? BodyStructureSource
    {
        get => _bodyStructure;
        init => _bodyStructure = value;
    }

    /// <summary>2.5/Kolab dialect: the whole message per UID, when the server included it (that is the payload).</summary>
    public IReadOnlyDictionary<uint, string> MessageContent { get; init; } = NoContent;
    /// <summary>2.5/Kolab dialect: parsed headers per UID, kept as JSON.</summary>
    public IReadOnlyDictionary<uint, JsonElement> MessageHeaders { get; init; } = NoHeaders;

    /// <summary>Fields this model does not name, kept as sent.</summary>
    public IReadOnlyDictionary<string, JsonElement> Extra { get; init; } = NoExtra;

    // Shared empty defaults: most events carry none of these, and the parser builds many events a second.
    internal static readonly IReadOnlyDictionary<uint, string> NoContent = ReadOnlyDictionary<uint, string>.Empty;
    internal static readonly IReadOnlyDictionary<uint, JsonElement> NoHeaders = ReadOnlyDictionary<uint, JsonElement>.Empty;
    internal static readonly IReadOnlyDictionary<string, JsonElement> NoExtra = ReadOnlyDictionary<string, JsonElement>.Empty;

    /// <summary>The notification bytes exactly as received.</summary>
    public required ReadOnlyMemory<byte> Raw { get; init; }
}

/// <summary>One identifier and its rights in a mailbox ACL (<c>bob@example.org</c>, <c>lrs</c>).</summary>
public sealed record AclEntry(string Identifier, string Rights);
