using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bonnie.Pipeline.Restore;
using Bonnie.Pipeline.Storage.Embedded;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Bonnie.Bench;

/// <summary>
/// Restore rate into a running Cyrus: the same N messages (default 200 of ~2 KB) appended by a plain MailKit APPEND
/// loop as the owner (the baseline), then restored by Bonnie's <see cref="ImapRestorer"/> (EMAILIDs read first,
/// MULTIAPPEND in batches, each batch read back and compared), in the same invocation against the same server.
/// Needs a Cyrus such as <c>scripts/neighbours/cyrus.sh start --notify /bin/true</c> starts (as root); its address and
/// users come from --host, --port, --owner, --admin and BONNIE_CYRUS_PASSWORD (defaults: the test Cyrus's).
/// </summary>
internal static class RestoreBench
{
    public static int Run(string[] args)
    {
        var count = BenchArgs.Int(args, "--messages", 200);
        var host = BenchArgs.Text(args, "--host") ?? "127.0.0.1";
        var port = BenchArgs.Int(args, "--port", 1143);
        var owner = BenchArgs.Text(args, "--owner") ?? "alice@example.org";
        var admin = BenchArgs.Text(args, "--admin") ?? "cyrus";
        var password = Environment.GetEnvironmentVariable("BONNIE_CYRUS_PASSWORD") ?? "bonnie-test";
        if (owner.Split('@') is not [{ Length: > 0 }, { Length: > 0 }])
        {
            Console.Error.WriteLine($"restore bench: --owner must be a login with its domain, such as alice@example.org (was '{owner}')");
            return 2;
        }
        var directory = Path.Combine(Path.GetTempPath(), "bonnie-restore-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            return RunAsync(directory, count, host, port, owner, admin, password).GetAwaiter().GetResult();
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            Console.Error.WriteLine($"restore bench: no IMAP server at {host}:{port} ({ex.Message}); start one with: sudo scripts/neighbours/cyrus.sh start --notify /bin/true");
            return 2;
        }
        finally
        {
            // The payloads written for the run; a failure to delete them must not hide the run's own error.
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<int> RunAsync(string directory, int count, string host, int port, string owner, string admin, string password)
    {
        var payloads = new PayloadDirectory(Path.Combine(directory, "payloads"), compress: true);
        var items = new List<RestoreItem>();
        var bodies = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var body = Encoding.ASCII.GetBytes(
                $"From: bench@example.net\r\nTo: {owner}\r\nSubject: bench {i}\r\nMessage-ID: <{Guid.NewGuid():N}@bench>\r\n\r\n{new string('b', 2000)}\r\n");
            bodies.Add(body);
            items.Add(new RestoreItem("bench" + i, await payloads.PutAsync(body), body.Length, "", ["\\Seen"], DateTimeOffset.UtcNow, null));
        }
        var (local, domain) = (owner.Split('@')[0], owner.Split('@')[1]);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var plainName = "BenchPlain-" + suffix;
        var restoreFolder = $"user/{local}/BenchRestore-{suffix}@{domain}";

        var plain = Stopwatch.StartNew();
        using (var client = new ImapClient())
        {
            await client.ConnectAsync(host, port, SecureSocketOptions.None);
            await client.AuthenticateAsync(owner, password);
            var folder = await client.Inbox.CreateAsync(plainName, true);
            foreach (var body in bodies)
            {
                var message = await MimeMessage.LoadAsync(new MemoryStream(body));
                await folder!.AppendAsync(new AppendRequest(message, MessageFlags.Seen));
            }
            await client.DisconnectAsync(true);
        }
        plain.Stop();

        var restorer = new ImapRestorer(Options.Create(new RestoreOptions
        {
            Imap = new RestoreImapOptions { Host = host, Port = port, Security = "None", AdminUser = admin, Password = password },
        }), payloads, NullLogger<ImapRestorer>.Instance);
        var restore = Stopwatch.StartNew();
        var result = await restorer.RunAsync(new RestorePlan(null, items.ConvertAll(i => i with { TargetFolder = restoreFolder }), []), null);
        restore.Stop();

        var plainRate = count / plain.Elapsed.TotalSeconds;
        var restoreRate = count / restore.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"restore bench: {count} messages of ~2 KB; plain MailKit APPEND loop {plainRate:F0} msg/s (baseline); Bonnie restore {restoreRate:F0} msg/s; ratio {restoreRate / plainRate:F2}; restored {result.Progress.Restored}"));
        Console.WriteLine($"left in Cyrus: {owner}'s INBOX/{plainName} and {restoreFolder}");
        return result.Progress.Restored == count ? 0 : 1;
    }
}
