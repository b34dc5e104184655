using System.Globalization;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>
/// Postfix on 127.0.0.1:2525 (BONNIE_POSTFIX_SMTP_PORT) relaying example.org to Cyrus' LMTP, started by
/// scripts/neighbours/postfix.sh and stopped when the class is done. Delivery needs Cyrus, so classes using it
/// belong to <see cref="CyrusCollection"/> and start Cyrus too.
/// </summary>
public sealed partial class PostfixFixture : IAsyncLifetime
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public string Host { get; } = "127.0.0.1";

    public int SmtpPort { get; } = int.Parse(
        Environment.GetEnvironmentVariable("BONNIE_POSTFIX_SMTP_PORT") ?? "2525", CultureInfo.InvariantCulture);

    public string StateDirectory { get; } =
        Environment.GetEnvironmentVariable("BONNIE_POSTFIX_STATE") ?? "/var/tmp/bonnie-test/postfix";

    /// <summary>Postfix's own log (maillog_file).</summary>
    public string LogFile => Path.Combine(StateDirectory, "postfix.log");

    public Task InitializeAsync() => NeighbourScript.RunAsync("postfix.sh", ["start"], ScriptEnvironment());

    public Task DisposeAsync() => NeighbourScript.RunAsync("postfix.sh", ["stop"], ScriptEnvironment());

    /// <summary>Sends over SMTP and returns the queue id Postfix gave the message.</summary>
    public async Task<string> SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { LocalDomain = "tests.bonnie.example" };
        await client.ConnectAsync(Host, SmtpPort, SecureSocketOptions.None, cancellationToken);
        var answer = await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        var queued = QueuedAs().Match(answer);
        return queued.Success ? queued.Groups[1].Value : throw new InvalidOperationException($"no queue id in '{answer}'");
    }

    /// <summary>
    /// Waits for the first log line that matches. Postfix writes its log from its own processes; nothing signals
    /// a new line, so the file is read again until the deadline.
    /// </summary>
    public async Task<string> WaitForLogLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var lines = File.Exists(LogFile) ? await ReadSharedAsync(cancellationToken) : [];
            var found = lines.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no matching line in {LogFile} within {timeout}; it ends with:\n"
                    + string.Join('\n', lines.TakeLast(10)));
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private async Task<string[]> ReadSharedAsync(CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync(cancellationToken);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private Dictionary<string, string> ScriptEnvironment() => new()
    {
        ["BONNIE_POSTFIX_STATE"] = StateDirectory,
        ["BONNIE_POSTFIX_SMTP_PORT"] = SmtpPort.ToString(CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"queued as ([0-9A-Za-z]+)")]
    private static partial Regex QueuedAs();
}
