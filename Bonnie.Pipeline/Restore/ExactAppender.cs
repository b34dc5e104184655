using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Bonnie.Shared.Cyrus;

namespace Bonnie.Pipeline.Restore;

/// <summary>Cyrus refused an APPEND: its tagged answer, response code included (<c>[OVERQUOTA]</c>, <c>[TRYCREATE]</c>).</summary>
internal sealed class AppendRefusedException(string response) : Exception($"Cyrus refused the APPEND: {response}")
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
    private Stream _stream;
    private int _tag;

    private ExactAppender(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
    }

    public static async Task<ExactAppender> ConnectAsync(RestoreImapOptions imap, string owner, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(imap.Timeout);
            await tcp.ConnectAsync(imap.Host!, imap.Port, timeout.Token).ConfigureAwait(false);
            tcp.ReceiveTimeout = tcp.SendTimeout = (int)imap.Timeout.TotalMilliseconds;
            var appender = new ExactAppender(tcp, tcp.GetStream());
            if (imap.Security == "SslOnConnect")
            {
                await appender.StartTlsAsync(imap, cancellationToken).ConfigureAwait(false);
            }
            await appender.ReadGreetingAsync(cancellationToken).ConfigureAwait(false);
            if (imap.Security is not ("None" or "SslOnConnect"))
            {
                await appender.CommandAsync("STARTTLS", cancellationToken).ConfigureAwait(false);
                await appender.StartTlsAsync(imap, cancellationToken).ConfigureAwait(false);
            }
            // RFC 4616: authorization id, authentication id, password. SASL-IR (RFC 4959), which Cyrus offers.
            var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{owner}\0{imap.AdminUser}\0{imap.Password}"));
            await appender.CommandAsync("AUTHENTICATE PLAIN " + plain, cancellationToken, secret: true).ConfigureAwait(false);
            return appender;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    private async Task StartTlsAsync(RestoreImapOptions imap, CancellationToken cancellationToken)
    {
        using var trust = ServerCertificateTrust.Load(imap.TrustedCertificate);
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, trust is null ? null : trust.Validate);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = imap.Host }, cancellationToken).ConfigureAwait(false);
        _stream = ssl;
    }

    /// <summary>Stores <paramref name="message"/> byte for byte in <paramref name="mailbox"/> (as the owner names it); returns its UID when Cyrus says it.</summary>
    public async Task<uint?> AppendAsync(string mailbox, IEnumerable<string> flags, DateTimeOffset? internalDate, ReadOnlyMemory<byte> message,
        CancellationToken cancellationToken)
    {
        var command = new StringBuilder("APPEND ").Append(Quoted(ModifiedUtf7(mailbox)));
        command.Append(" (").AppendJoin(' ', flags.Where(IsAtom)).Append(')');
        if (internalDate is { } date)
        {
            command.Append(" \"").Append(date.ToString("dd-MMM-yyyy HH:mm:ss ", CultureInfo.InvariantCulture))
                .Append(date.Offset < TimeSpan.Zero ? '-' : '+').Append(date.Offset.ToString("hhmm", CultureInfo.InvariantCulture)).Append('"');
        }
        command.Append(" {").Append(message.Length.ToString(CultureInfo.InvariantCulture)).Append('}');
        var tag = NextTag();
        await WriteLineAsync($"{tag} {command}", cancellationToken).ConfigureAwait(false);
        var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (!line.StartsWith('+'))
        {
            throw new AppendRefusedException(line);
        }
        await _stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        await WriteLineAsync("", cancellationToken).ConfigureAwait(false);
        var done = await ReadTaggedAsync(tag, cancellationToken).ConfigureAwait(false);
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
            await ReadTaggedAsync(tag, cancellationToken).ConfigureAwait(false);
        }
        catch (AppendRefusedException ex) when (secret)
        {
            // The answer to AUTHENTICATE, never the command, which holds the password.
            throw new MailKit.Security.AuthenticationException($"The IMAP server refused the login: {ex.Response}");
        }
    }

    /// <summary>Reads to the tagged answer: OK returns it, NO or BAD throws with it.</summary>
    private async Task<string> ReadTaggedAsync(string tag, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line.StartsWith('+'))
            {
                // The server waits for something this client never sends (a SASL challenge without SASL-IR).
                throw new AppendRefusedException(line);
            }
            if (!line.StartsWith(tag + " ", StringComparison.Ordinal))
            {
                continue;
            }
            var answer = line[(tag.Length + 1)..];
            return answer.StartsWith("OK", StringComparison.OrdinalIgnoreCase) ? answer : throw new AppendRefusedException(answer);
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

    /// <summary>RFC 3501 5.1.3: printable ASCII as is ("&amp;" as "&amp;-"), every other run as "&amp;" + base64 of its UTF-16 + "-".</summary>
    internal static string ModifiedUtf7(string name)
    {
        var sb = new StringBuilder();
        var run = new StringBuilder();
        void Flush()
        {
            if (run.Length == 0)
            {
                return;
            }
            var base64 = Convert.ToBase64String(Encoding.BigEndianUnicode.GetBytes(run.ToString())).TrimEnd('=').Replace('/', ',');
            sb.Append('&').Append(base64).Append('-');
            run.Clear();
        }
        foreach (var c in name)
        {
            if (c is >= ' ' and <= '~')
            {
                Flush();
                sb.Append(c == '&' ? "&-" : c.ToString());
            }
            else
            {
                run.Append(c);
            }
        }
        Flush();
        return sb.ToString();
    }

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
