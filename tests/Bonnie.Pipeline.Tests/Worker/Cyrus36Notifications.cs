namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Notifications in Cyrus 3.6's own format (as the fixtures were captured), built for sequences no single fixture
/// shows: alice's folders by id and UIDVALIDITY, times as seconds after 12:00 UTC on 2026-11-29, a fresh pid each.
/// </summary>
internal sealed class Cyrus36Notifications
{
    public const string Session = "cyrus-1795951230-11919-1-18047406984012349348";
    public const string AliceAcl = "alice@example.org\\tlrswipkxtecdan\\t";
    private const string Alice = "alice@example.org";
    private int _pid = 20000;

    private static string U(string name) => name.Replace("@", "%40", StringComparison.Ordinal);

    private static string Ts(int s) => $"2026-11-29T12:{s / 60:00}:{s % 60:00}.000Z";

    private string Common(string user) => $"\"pid\":{_pid++},\"user\":\"{user}\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\"";

    public string Create(string id, string name, uint uv, int s, string acl = AliceAcl, string user = Alice)
        => $"{{\"event\":\"MailboxCreate\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}\",{Common(user)},\"vnd.cmu.mailboxACL\":\"{acl}\",\"vnd.cmu.sessionId\":\"{Session}\"}}";

    public string New(string id, string name, uint uv, uint uid, string emailId, string mid, int s, string user = Alice)
        => $"{{\"event\":\"MessageNew\",\"timestamp\":\"{Ts(s)}\",\"service\":\"lmtp\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}/;UID={uid}\",\"modseq\":2,\"uidnext\":{uid + 1},\"vnd.cmu.midset\":[\"{mid}\"],{Common(user)},\"messageSize\":567,\"vnd.cmu.mailboxACL\":\"{AliceAcl}\",\"vnd.cmu.sessionId\":\"cyrus-lmtp-{s}\",\"vnd.cmu.emailid\":\"{emailId}\",\"vnd.cmu.threadid\":\"NIL\"}}";

    /// <summary>A copy or move: its source named by URI only, as Cyrus 3.6 sends it.</summary>
    public string CopyOrMove(bool move, string srcName, uint srcUv, uint oldUid, string dstId, string dstName, uint dstUv, uint uid, string mid, int s)
        => $"{{\"event\":\"vnd.cmu.Message{(move ? "Move" : "Copy")}\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"oldMailboxID\":\"imap://imap.example.org/{U(srcName)};UIDVALIDITY={srcUv}\",\"vnd.cmu.oldUidset\":\"{oldUid}\",\"mailboxID\":\"{dstId}\",\"uri\":\"imap://imap.example.org/{U(dstName)};UIDVALIDITY={dstUv}\",\"modseq\":3,\"uidnext\":{uid + 1},\"uidset\":\"{uid}\",\"vnd.cmu.midset\":[\"{mid}\"],{Common(Alice)},\"vnd.cmu.mailboxACL\":\"{AliceAcl}\",\"vnd.cmu.sessionId\":\"{Session}\"}}";

    /// <summary>An event about messages by UID (flags, expunge, read...); <paramref name="extra"/> adds fields, each ending in a comma.</summary>
    public string Uids(string type, string id, string name, uint uv, string uidset, string mids, int s, string extra = "")
        => $"{{\"event\":\"{type}\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}\",\"modseq\":9,\"uidset\":\"{uidset}\",\"vnd.cmu.midset\":[{mids}],{extra}{Common(Alice)},\"vnd.cmu.mailboxACL\":\"{AliceAcl}\",\"vnd.cmu.sessionId\":\"{Session}\"}}";

    public string Rename(string oldName, string id, string newName, uint uv, int s, string user = Alice)
        => $"{{\"event\":\"MailboxRename\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"oldMailboxID\":\"imap://imap.example.org/{U(oldName)};UIDVALIDITY={uv}\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(newName)};UIDVALIDITY={uv}\",{Common(user)},\"vnd.cmu.mailboxACL\":\"{AliceAcl}\",\"vnd.cmu.sessionId\":\"{Session}\"}}";

    public string Delete(string id, string name, uint uv, int s)
        => $"{{\"event\":\"MailboxDelete\",\"timestamp\":\"{Ts(s)}\",\"service\":\"imap\",\"mailboxID\":\"{id}\",\"uri\":\"imap://imap.example.org/{U(name)};UIDVALIDITY={uv}\",{Common(Alice)},\"vnd.cmu.mailboxACL\":\"{AliceAcl}\",\"vnd.cmu.sessionId\":\"{Session}\"}}";
}
