using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;

namespace Bonnie.Pipeline.Restore;

/// <summary>Cyrus answered a command NO or BAD: its tagged answer, response code included (<c>[OVERQUOTA]</c>, <c>[TRYCREATE]</c>).</summary>
internal sealed class ImapRefusedException(string command, string response) : Exception($"Cyrus refused the {command}: {response}")
{
    public string Response { get; } = response;
}

/// <summary>
/// APPENDs the archived bytes as they are, over a connection of its own. MailKit writes a message through MimeKit and
/// forces a line ending at its end, and MimeKit closes a multipart the sender left open: a message without a final
/// CRLF, or with a missing closing boundary, came back two bytes longer, with another GUID (a review saw both). Evidence
/// restored must be the evidence. Everything else of the restore (folders, what is present, the check of each GUID)
/// stays with MailKit; only the APPEND literal needs the bytes untouched, and this speaks just enough IMAP for it:
/// STARTTLS or TLS, AUTHENTICATE PLAIN as the admin for the owner, APPEND with a synchronizing literal.
/// </summary>
internal sealed partial class ExactAppender : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly TimeSpan _timeout;
    private Stream _stream;
    private int _tag;

    private ExactAppender(TcpClient tcp, Stream stream, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = stream;
        _timeout = timeout;
    }

    public static async Task<ExactAppender> ConnectAsync(RestoreImapOptions imap, string owner, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        ExactAppender? appender = null;
        try
        {
            // The whole handshake within the timeout: socket timeouts do not bound asynchronous reads, nor TLS.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(imap.Timeout);
            var token = timeout.Token;
            await tcp.ConnectAsync(imap.Host!, imap.Port, token).ConfigureAwait(false);
            appender = new ExactAppender(tcp, tcp.GetStream(), imap.Timeout);
            if (imap.Security == "SslOnConnect")
            {
                await appender.StartTlsAsync(imap, token).ConfigureAwait(false);
            }
            await appender.ReadGreetingAsync(token).ConfigureAwait(false);
            if (imap.Security is not ("None" or "SslOnConnect"))
            {
                await appender.CommandAsync("STARTTLS", token).ConfigureAwait(false);
                await appender.StartTlsAsync(imap, token).ConfigureAwait(false);
            }
            // RFC 4616: authorization id, authentication id, password. SASL-IR (RFC 4959), which Cyrus offers.
            var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{owner}\0{imap.AdminUser}\0{imap.Password}"));
            await appender.CommandAsync("AUTHENTICATE PLAIN " + plain, token, secret: true).ConfigureAwait(false);
            return appender;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(appender, tcp).ConfigureAwait(false);
            throw new IOException($"The IMAP server {imap.Host}:{imap.Port} did not complete the login within {imap.Timeout.TotalSeconds:0} s.");
        }
        catch
        {
            await DisposeQuietlyAsync(appender, tcp).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task DisposeQuietlyAsync(ExactAppender? appender, TcpClient tcp)
    {
        if (appender is not null)
        {
            await appender._stream.DisposeAsync().ConfigureAwait(false);
        }
        tcp.Dispose();
    }

    private async Task StartTlsAsync(RestoreImapOptions imap, CancellationToken cancellationToken)
    {
        using var trust = ServerCertificateTrust.Load(imap.TrustedCertificate);
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, trust is null ? null : trust.Validate);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = imap.Host }, cancellationToken).ConfigureAwait(false);
        _stream = ssl;
    }

    /// <summary>
    /// Stores <paramref name="message"/> byte for byte in <paramref name="mailbox"/> (as the owner names it); returns its
    /// UID when Cyrus says it. A NO or BAD is an <see cref="ImapRefusedException"/> (this message only: the connection
    /// stays in step); anything that leaves the conversation out of step (no answer in time, an answer out of place, a
    /// BYE) is an <see cref="IOException"/>, and the connection is not to be used again.
    /// </summary>
    public async Task<uint?> AppendAsync(string mailbox, IEnumerable<string> flags, DateTimeOffset? internalDate, ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout + TimeSpan.FromMilliseconds(message.Length / 100.0));
        try
        {
            return await AppendWithinAsync(mailbox, flags, internalDate, message, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"The IMAP server did not answer an APPEND to {mailbox} in time.");
        }
    }

    private async Task<uint?> AppendWithinAsync(string mailbox, IEnumerable<string> flags, DateTimeOffset? internalDate, ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken)
    {
        var command = new StringBuilder("APPEND ").Append(Quoted(ModifiedUtf7.Encode(mailbox)));
        command.Append(" (").AppendJoin(' ', flags.Where(IsAtom)).Append(')');
        if (internalDate is { } date)
        {
            command.Append(" \"").Append(date.ToString("dd-MMM-yyyy HH:mm:ss ", CultureInfo.InvariantCulture))
                .Append(date.Offset < TimeSpan.Zero ? '-' : '+').Append(date.Offset.ToString("hhmm", CultureInfo.InvariantCulture)).Append('"');
        }
        command.Append(" {").Append(message.Length.ToString(CultureInfo.InvariantCulture)).Append('}');
        var tag = NextTag();
        await WriteLineAsync($"{tag} {command}", cancellationToken).ConfigureAwait(false);
        // The server's go-ahead for the literal, or its refusal of the command: untagged lines (an ALERT) may come first.
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.StartsWith('+'))
            {
                break;
            }
            if (line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                throw new ImapRefusedException("APPEND", line[(tag.Length + 1)..]);
            }
            ThrowIfBye(line);
        }
        await _stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await WriteLineAsync("", cancellationToken).ConfigureAwait(false);
        var done = await ReadTaggedAsync(tag, "APPEND", cancellationToken).ConfigureAwait(false);
        var uid = AppendUid().Match(done);
        return uid.Success ? uint.Parse(uid.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private async Task ReadGreetingAsync(CancellationToken cancellationToken)
    {
        var greeting = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (!greeting.StartsWith("* OK", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"The IMAP server greeted with \"{greeting}\", not * OK.");
        }
    }

    private async Task CommandAsync(string command, CancellationToken cancellationToken, bool secret = false)
    {
        var tag = NextTag();
        await WriteLineAsync($"{tag} {command}", cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadTaggedAsync(tag, command.Split(' ')[0], cancellationToken).ConfigureAwait(false);
        }
        catch (ImapRefusedException ex) when (secret)
        {
            // The answer to AUTHENTICATE, never the command, which holds the password.
            throw new MailKit.Security.AuthenticationException($"The IMAP server refused the login: {ex.Response}");
        }
    }

    /// <summary>Reads to the tagged answer: OK returns it, NO or BAD throws with it; a BYE or a go-ahead out of place is an IOException.</summary>
    private async Task<string> ReadTaggedAsync(string tag, string command, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.StartsWith('+'))
            {
                // The server waits for something this client never sends (a SASL challenge without SASL-IR): out of step.
                throw new IOException($"The IMAP server asked for more after {command} (\"{line}\"); the connection is closed.");
            }
            ThrowIfBye(line);
            if (!line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                continue;
            }
            var answer = line[(tag.Length + 1)..];
            return answer.StartsWith("OK", StringComparison.OrdinalIgnoreCase) ? answer : throw new ImapRefusedException(command, answer);
        }
    }

    private static void ThrowIfBye(string line)
    {
        if (line.StartsWith("* BYE", StringComparison.OrdinalIgnoreCase))
        {
            throw new IOException($"The IMAP server closed the session: {line[2..]}");
        }
    }

    private string NextTag() => "B" + (++_tag).ToString(CultureInfo.InvariantCulture);

    private async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One response line; a literal in it (<c>{n}</c> at the end) is read and left out.</summary>
    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await _stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new IOException("The IMAP server closed the connection.");
            }
            if (one[0] == '\n' && line.Count > 0 && line[^1] == '\r')
            {
                line.RemoveAt(line.Count - 1);
                var text = Encoding.UTF8.GetString([.. line]);
                if (Literal().Match(text) is { Success: true } literal)
                {
                    var skip = new byte[int.Parse(literal.Groups[1].Value, CultureInfo.InvariantCulture)];
                    await _stream.ReadExactlyAsync(skip, cancellationToken).ConfigureAwait(false);
                    line.Clear();
                    continue;
                }
                return text;
            }
            line.Add(one[0]);
        }
    }

    // A flag the APPEND can carry: \Seen and the like, or a keyword atom. Anything else (a stored flag Cyrus would
    // refuse) is left out rather than failing the message.
    private static bool IsAtom(string flag) => flag.Length > 0 && FlagAtom().IsMatch(flag);

    private static string Quoted(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await WriteLineAsync($"{NextTag()} LOGOUT", quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing anyway.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }

    [GeneratedRegex(@"\[APPENDUID \d+ (\d+)\]", RegexOptions.IgnoreCase)]
    private static partial Regex AppendUid();

    [GeneratedRegex(@"\{(\d+)\+?\}$")]
    private static partial Regex Literal();

    [GeneratedRegex(@"^\\?[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|~]+$")]
    private static partial Regex FlagAtom();
}
