using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Cyrus;

/// <summary>Where and as whom to read folder METADATA over IMAP (the Cyrus admin). The password is never logged.</summary>
/// <param name="TrustedCertificate">A PEM file trusted besides the machine's store (<see cref="ServerCertificateTrust"/>); null: the store alone.</param>
public sealed record ImapAdminEndpoint(
    string Host, int Port, string Security, string User, string Password, TimeSpan Timeout, string? TrustedCertificate = null)
{
    public override string ToString() => $"{User}@{Host}:{Port.ToString(CultureInfo.InvariantCulture)} ({Security})";
}

/// <summary>A GETMETADATA exchange that failed: refused login, broken connection, an answer that does not parse.</summary>
public sealed class ImapAdminException(string message, Exception? inner = null, bool isRefusal = false) : Exception(message, inner)
{
    /// <summary>The server refused this one command (NO, BAD); the session itself is still good for the next.</summary>
    public bool IsRefusal { get; } = isRefusal;
}

/// <summary>
/// The Cyrus admin's own small IMAP exchange, not MailKit's, for the two things MailKit cannot do as evidence needs:
/// <list type="bullet">
/// <item>Reading a folder's shared METADATA (RFC 5464): Cyrus 3.6 answers <c>GETMETADATA (DEPTH infinity)</c> with
/// every entry it knows, <c>NIL</c> for those not set (RFC 5464 allows it), and MailKit 4.18.2's parser rejects NIL
/// there and drops the connection. Only the shared entries are read: private ones are each user's own, and the admin
/// would read its own, not the folder owner's.</item>
/// <item>APPENDing archived bytes as they are, for a restore (<see cref="AppendAsync"/>): MailKit writes a message
/// through MimeKit and ends it with a line break, and MimeKit closes a multipart its sender left open, so such mail came
/// back with another GUID.</item>
/// </list>
/// One session serves any number of folders over one login.
/// </summary>
public sealed partial class ImapAdminSession : IAsyncDisposable
{
    // Cyrus's own bookkeeping, rewritten by deliveries, reads and syncs: as folder metadata they would be a change
    // record per delivery that says nothing about what anyone set. What an administrator sets under the same prefix
    // (expire, sharedseen, duplicatedeliver, partition, pop3newuidl, ...) is kept.
    private static readonly HashSet<string> Volatile = new(StringComparer.OrdinalIgnoreCase)
    {
        UniqueIdEntry,
        "/shared/vendor/cmu/cyrus-imapd/synccrcs",
        "/shared/vendor/cmu/cyrus-imapd/size",
        "/shared/vendor/cmu/cyrus-imapd/annotsize",
        "/shared/vendor/cmu/cyrus-imapd/lastupdate",
        "/shared/vendor/cmu/cyrus-imapd/foldermodseq",
        "/shared/vendor/cmu/cyrus-imapd/lastpop",
        "/shared/vendor/cmu/cyrus-imapd/hasalarms",
    };

    /// <summary>The folder's unique id, which Cyrus's events call <c>mailboxID</c>: not an entry anyone sets, but it tells
    /// which folder a name stood for at the moment of reading (<see cref="GetSharedAsync"/>).</summary>
    public const string UniqueIdEntry = "/shared/vendor/cmu/cyrus-imapd/uniqueid";

    private const int MaxLiteral = 1 << 20;
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly TimeSpan _timeout;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;
    private int _tag;

    private ImapAdminSession(TcpClient tcp, Stream stream, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = stream;
        _timeout = timeout;
    }

    /// <summary>Whether an entry is Cyrus's bookkeeping rather than something set on the folder.</summary>
    public static bool IsVolatile(string entry) => Volatile.Contains(entry);

    public static Task<ImapAdminSession> OpenAsync(ImapAdminEndpoint endpoint, CancellationToken cancellationToken)
        => OpenAsync(endpoint, actingFor: null, cancellationToken);

    /// <param name="actingFor">The user the admin acts as (SASL PLAIN's authorization id, RFC 4616), with that user's
    /// rights; null: the admin itself.</param>
    public static async Task<ImapAdminSession> OpenAsync(ImapAdminEndpoint endpoint, string? actingFor, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(endpoint.Timeout);
        var tcp = new TcpClient();
        ImapAdminSession? session = null;
        try
        {
            // Read at each session, so a renewed certificate needs no restart; a file that went missing fails this session.
            using var trust = ServerCertificateTrust.Load(endpoint.TrustedCertificate);
            await tcp.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token).ConfigureAwait(false);
            Stream stream = tcp.GetStream();
            if (endpoint.Security == "SslOnConnect")
            {
                stream = await TlsAsync(stream, endpoint.Host, trust, timeout.Token).ConfigureAwait(false);
            }
            session = new ImapAdminSession(tcp, stream, endpoint.Timeout);
            var greeting = await session.ReadLineTokensAsync(timeout.Token).ConfigureAwait(false);
            if (greeting is not ["*", "OK", ..] && greeting is not ["*", "PREAUTH", ..])
            {
                throw new ImapAdminException($"{endpoint.Host}:{endpoint.Port} did not greet as an IMAP server ({Describe(greeting)}).");
            }
            if (endpoint.Security is "StartTls" or "" or null)
            {
                await session.CommandAsync("STARTTLS", timeout.Token).ConfigureAwait(false);
                session._stream = await TlsAsync(session._stream, endpoint.Host, trust, timeout.Token).ConfigureAwait(false);
                session._start = session._end = 0;
            }
            // SASL PLAIN with the initial response (RFC 4959): one line, the password never in a log (nothing here logs).
            var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{actingFor}\0{endpoint.User}\0{endpoint.Password}"));
            var (status, text) = await session.RunAsync("AUTHENTICATE PLAIN " + plain, timeout.Token).ConfigureAwait(false);
            if (status != "OK")
            {
                throw new ImapAdminException($"{endpoint.User} could not sign in to {endpoint.Host}:{endpoint.Port}: {status} {text}");
            }
            return session;
        }
        catch (Exception ex) when (ex is not ImapAdminException && !cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(session, tcp).ConfigureAwait(false);
            throw new ImapAdminException($"Signing in to {endpoint.Host}:{endpoint.Port} failed: {ex.Message}", ex);
        }
        catch
        {
            await DisposeQuietlyAsync(session, tcp).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The folder's shared entries that are set (NIL ones and Cyrus's bookkeeping left out), by entry name, with the
    /// unique id of the folder that had the name when it was read (null where the server does not tell: a folder
    /// renamed, and another created under its name, between an event and this read would otherwise lend its entries
    /// to the wrong folder); null when the folder does not exist (any more).
    /// </summary>
    public async Task<(SortedDictionary<string, string> Entries, string? UniqueId)?> GetSharedAsync(string mailbox, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? uniqueId = null;
        try
        {
            var tag = NextTag();
            await WriteAsync($"{tag} GETMETADATA (DEPTH infinity) {Quote(ModifiedUtf7.Encode(mailbox))} (/shared)\r\n", timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var tokens = await ReadLineTokensAsync(timeout.Token).ConfigureAwait(false);
                if (tokens.Count >= 2 && tokens[0] == tag)
                {
                    if (tokens[1] == "OK")
                    {
                        return (entries, uniqueId);
                    }
                    // Cyrus says "Mailbox does not exist"; servers with RFC 5530's response codes say [NONEXISTENT].
                    if (tokens[1] == "NO" && tokens.Skip(2).OfType<string>().Any(t => t.Contains("does not exist", StringComparison.OrdinalIgnoreCase)
                                                                                       || t.Contains("[NONEXISTENT]", StringComparison.OrdinalIgnoreCase)))
                    {
                        return null;
                    }
                    throw new ImapAdminException($"GETMETADATA of {mailbox}: {Describe(tokens.Skip(1).ToList())}", isRefusal: true);
                }
                if (tokens is ["*", "METADATA", _, ..])
                {
                    ReadEntries(tokens, entries, ref uniqueId);
                }
                ThrowIfBye(tokens);
            }
        }
        catch (Exception ex) when (ex is not ImapAdminException && !cancellationToken.IsCancellationRequested)
        {
            throw new ImapAdminException($"GETMETADATA of {mailbox} failed: {ex.Message}", ex);
        }
    }

    // "* METADATA <mailbox> ( entry value entry value ... )": values are strings (quoted or literal) or NIL.
    private static void ReadEntries(List<string?> tokens, SortedDictionary<string, string> entries, ref string? uniqueId)
    {
        var open = 3;
        while (open < tokens.Count && !ReferenceEquals(tokens[open], Open))
        {
            open++;
        }
        if (open == tokens.Count)
        {
            // The unsolicited form (entries without values, RFC 5464 4.4.2) says something changed, not what.
            return;
        }
        for (var i = open + 1; i + 1 < tokens.Count && !ReferenceEquals(tokens[i], Close); i += 2)
        {
            if (tokens[i] is { } entry && tokens[i + 1] is { } value && !ReferenceEquals(value, Close) && string.Equals(entry, UniqueIdEntry, StringComparison.OrdinalIgnoreCase))
            {
                uniqueId = value;
            }
            else if (tokens[i] is { } kept && tokens[i + 1] is { } keptValue && !ReferenceEquals(keptValue, Close) && !IsVolatile(kept))
            {
                entries[kept] = keptValue;
            }
        }
    }

    /// <summary>
    /// Stores <paramref name="message"/> byte for byte in <paramref name="mailbox"/> (as the session's user names it),
    /// with these flags and internal date; returns its UID when the server says it (UIDPLUS). A NO or BAD is an
    /// <see cref="ImapAdminException"/> with <see cref="ImapAdminException.IsRefusal"/> (the session stays in step);
    /// anything else (no answer in time, a BYE, an answer out of place) is one without, and the session is done.
    /// </summary>
    public async Task<uint?> AppendAsync(string mailbox, IEnumerable<string> flags, DateTimeOffset? internalDate, ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A large message takes its time to send: 10 ms more per 100 KB.
        timeout.CancelAfter(_timeout + TimeSpan.FromMilliseconds(message.Length / 10_000.0));
        try
        {
            var tag = NextTag();
            var command = new StringBuilder(tag).Append(" APPEND ").Append(Quote(ModifiedUtf7.Encode(mailbox)))
                .Append(" (").AppendJoin(' ', flags.Where(IsFlagAtom)).Append(')');
            if (internalDate is { } date)
            {
                command.Append(" \"").Append(date.ToString("dd-MMM-yyyy HH:mm:ss ", CultureInfo.InvariantCulture))
                    .Append(date.Offset < TimeSpan.Zero ? '-' : '+').Append(date.Offset.ToString("hhmm", CultureInfo.InvariantCulture)).Append('"');
            }
            command.Append(" {").Append(message.Length.ToString(CultureInfo.InvariantCulture)).Append("}\r\n");
            await WriteAsync(command.ToString(), timeout.Token).ConfigureAwait(false);
            // The go-ahead for the literal, or the command's refusal; untagged lines (an ALERT) may come first.
            while (true)
            {
                var tokens = await ReadLineTokensAsync(timeout.Token).ConfigureAwait(false);
                if (tokens is ["+", ..])
                {
                    break;
                }
                if (tokens.Count >= 2 && tokens[0] == tag)
                {
                    throw new ImapAdminException($"APPEND was refused: {tokens[1]} {Describe(tokens.Skip(2).ToList())}", isRefusal: true);
                }
                ThrowIfBye(tokens);
            }
            await _stream.WriteAsync(message, timeout.Token).ConfigureAwait(false);
            await WriteAsync("\r\n", timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var tokens = await ReadLineTokensAsync(timeout.Token).ConfigureAwait(false);
                if (tokens is ["+", ..])
                {
                    throw new ImapAdminException("The IMAP server asked for more after the APPEND's message; the session is out of step and ends.");
                }
                ThrowIfBye(tokens);
                if (tokens.Count >= 2 && tokens[0] == tag)
                {
                    var text = Describe(tokens.Skip(2).ToList());
                    if (tokens[1] != "OK")
                    {
                        throw new ImapAdminException($"APPEND was refused: {tokens[1]} {text}", isRefusal: true);
                    }
                    var uid = AppendUid().Match(text);
                    return uid.Success ? uint.Parse(uid.Groups[1].Value, CultureInfo.InvariantCulture) : null;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImapAdminException($"The IMAP server did not answer an APPEND to {mailbox} within {_timeout.TotalSeconds:0} s.");
        }
        catch (IOException ex)
        {
            throw new ImapAdminException($"The connection broke during an APPEND to {mailbox}: {ex.Message}", ex);
        }
    }

    // A BYE is the session's end whatever command was running (RFC 9051 7.1.5): every exchange here stops at it.
    private static void ThrowIfBye(List<string?> tokens)
    {
        if (tokens is ["*", "BYE", ..])
        {
            throw new ImapAdminException($"The IMAP server closed the session: {Describe(tokens.Skip(2).ToList())}");
        }
    }

    // A flag the APPEND can carry: \Seen and the like, or a keyword atom. Anything else (a stored flag the server would
    // refuse) is left out rather than failing the message.
    private static bool IsFlagAtom(string flag) => flag.Length > 0 && FlagAtom().IsMatch(flag);

    [System.Text.RegularExpressions.GeneratedRegex(@"\[APPENDUID \d+ (\d+)\]", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex AppendUid();

    [System.Text.RegularExpressions.GeneratedRegex(@"^\\?[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|~]+$")]
    private static partial System.Text.RegularExpressions.Regex FlagAtom();

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await WriteAsync($"{NextTag()} LOGOUT\r\n", quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Leaving: a connection that is already gone needs no goodbye.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }

    private static async Task DisposeQuietlyAsync(ImapAdminSession? session, TcpClient tcp)
    {
        if (session is not null)
        {
            await session._stream.DisposeAsync().ConfigureAwait(false);
        }
        tcp.Dispose();
    }

    private static async Task<Stream> TlsAsync(Stream inner, string host, ServerCertificateTrust? trust, CancellationToken cancellationToken)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = trust is null ? null : trust.Validate,
        };
        await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        return tls;
    }

    private string NextTag() => "M" + (++_tag).ToString(CultureInfo.InvariantCulture);

    private async Task CommandAsync(string command, CancellationToken cancellationToken)
    {
        var (status, text) = await RunAsync(command, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(status, "OK", StringComparison.Ordinal))
        {
            throw new ImapAdminException($"{command.Split(' ')[0]} was refused: {status} {text}");
        }
    }

    private async Task<(string Status, string Text)> RunAsync(string command, CancellationToken cancellationToken)
    {
        var tag = NextTag();
        await WriteAsync($"{tag} {command}\r\n", cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var tokens = await ReadLineTokensAsync(cancellationToken).ConfigureAwait(false);
            if (tokens.Count >= 2 && tokens[0] == tag)
            {
                return (tokens[1] ?? "", Describe(tokens.Skip(2).ToList()));
            }
            // The server's reason, rather than "closed the connection" when the close after it is read.
            ThrowIfBye(tokens);
            if (tokens is ["+", ..])
            {
                // A continuation we did not ask for (a server without SASL-IR): cancel the exchange.
                await WriteAsync("*\r\n", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WriteAsync(string line, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Describe(List<string?> tokens)
    {
        var text = string.Join(' ', tokens.Select(t => ReferenceEquals(t, Open) ? "(" : ReferenceEquals(t, Close) ? ")" : t ?? "NIL"));
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    /// <summary>An IMAP quoted string; a name with a CR, LF or NUL cannot be a mailbox name and is refused.</summary>
    internal static string Quote(string value)
    {
        if (value.IndexOfAny(['\r', '\n', '\0']) >= 0)
        {
            throw new ImapAdminException("A mailbox name with a line break or NUL is not sent to the server.");
        }
        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    // Parenthesis markers: compared by reference, so a quoted "(" in a value is not taken for one.
    private static readonly string Open = new(['(']);
    private static readonly string Close = new([')']);

    /// <summary>
    /// One response line as tokens: atoms and strings as text (literals read in full), NIL as null, parentheses as the
    /// <see cref="Open"/> and <see cref="Close"/> markers.
    /// </summary>
    private async Task<List<string?>> ReadLineTokensAsync(CancellationToken cancellationToken)
    {
        var tokens = new List<string?>();
        while (true)
        {
            var b = await PeekAsync(cancellationToken).ConfigureAwait(false);
            switch (b)
            {
                case (byte)' ':
                    _start++;
                    continue;
                case (byte)'\r':
                    _start++;
                    continue;
                case (byte)'\n':
                    _start++;
                    return tokens;
                case (byte)'(':
                    _start++;
                    tokens.Add(Open);
                    continue;
                case (byte)')':
                    _start++;
                    tokens.Add(Close);
                    continue;
                case (byte)'"':
                    _start++;
                    tokens.Add(await ReadQuotedAsync(cancellationToken).ConfigureAwait(false));
                    continue;
                case (byte)'{':
                    _start++;
                    tokens.Add(await ReadLiteralAsync(cancellationToken).ConfigureAwait(false));
                    continue;
                default:
                    var atom = await ReadAtomAsync(cancellationToken).ConfigureAwait(false);
                    tokens.Add(atom == "NIL" ? null : atom);
                    // After a status (tagged or untagged) or a continuation comes free text, which may hold a lone
                    // quote or brace: read as it is, to the line's end.
                    if ((tokens.Count == 2 && atom is "OK" or "NO" or "BAD" or "BYE" or "PREAUTH") || (tokens.Count == 1 && atom == "+"))
                    {
                        tokens.Add(await ReadRestOfLineAsync(cancellationToken).ConfigureAwait(false));
                        return tokens;
                    }
                    continue;
            }
        }
    }

    private async Task<string> ReadAtomAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = await PeekAsync(cancellationToken).ConfigureAwait(false);
            if (b is (byte)' ' or (byte)'\r' or (byte)'\n' or (byte)'(' or (byte)')' || (b == (byte)'"' && bytes.Count > 0))
            {
                return Encoding.UTF8.GetString([.. bytes]);
            }
            _start++;
            bytes.Add(b);
            if (bytes.Count > MaxLiteral)
            {
                throw new ImapAdminException("An atom longer than 1 MiB: not an IMAP server's answer.");
            }
        }
    }

    private async Task<string> ReadRestOfLineAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = await PeekAsync(cancellationToken).ConfigureAwait(false);
            _start++;
            if (b == (byte)'\n')
            {
                return Encoding.UTF8.GetString([.. bytes]).Trim();
            }
            if (bytes.Count < 4096)
            {
                bytes.Add(b);
            }
        }
    }

    private async Task<string> ReadQuotedAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = await PeekAsync(cancellationToken).ConfigureAwait(false);
            _start++;
            if (b == (byte)'"')
            {
                return Encoding.UTF8.GetString([.. bytes]);
            }
            if (b == (byte)'\\')
            {
                b = await PeekAsync(cancellationToken).ConfigureAwait(false);
                _start++;
            }
            else if (b is (byte)'\r' or (byte)'\n')
            {
                throw new ImapAdminException("A quoted string broken by a line end.");
            }
            bytes.Add(b);
            if (bytes.Count > MaxLiteral)
            {
                throw new ImapAdminException("A quoted string longer than 1 MiB.");
            }
        }
    }

    private async Task<string> ReadLiteralAsync(CancellationToken cancellationToken)
    {
        var digits = new StringBuilder();
        while (true)
        {
            var b = await PeekAsync(cancellationToken).ConfigureAwait(false);
            _start++;
            if (b == (byte)'}')
            {
                break;
            }
            if (b != (byte)'+')
            {
                digits.Append((char)b);
            }
        }
        if (!int.TryParse(digits.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > MaxLiteral)
        {
            throw new ImapAdminException($"A literal of '{digits}' bytes: not a size this reader accepts (at most 1 MiB).");
        }
        // The literal's bytes start after its CRLF.
        var end = await PeekAsync(cancellationToken).ConfigureAwait(false);
        _start++;
        if (end == (byte)'\r')
        {
            end = await PeekAsync(cancellationToken).ConfigureAwait(false);
            _start++;
        }
        if (end != (byte)'\n')
        {
            throw new ImapAdminException("A literal's size not followed by a line end.");
        }
        var data = new byte[length];
        for (var read = 0; read < length;)
        {
            await PeekAsync(cancellationToken).ConfigureAwait(false);
            var n = Math.Min(length - read, _end - _start);
            Array.Copy(_buffer, _start, data, read, n);
            _start += n;
            read += n;
        }
        return Encoding.UTF8.GetString(data);
    }

    private async ValueTask<byte> PeekAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = 0;
            _end = await _stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            if (_end == 0)
            {
                throw new ImapAdminException("The IMAP server closed the connection.");
            }
        }
        return _buffer[_start];
    }
}
