using Bonnie.Dealer.Configuration;
using Bonnie.Dealer.Diagnostics;
using Bonnie.Dealer.Filtering;
using Bonnie.Dealer.Spool;
using Bonnie.Dealer.Transport;

namespace Bonnie.Dealer;

/// <summary>
/// The command line: what Cyrus runs per event (<c>-c &lt;Event&gt; -p "" -u "" -m "" -f</c>, one JSON object on
/// stdin), plus <c>--drain</c> for cron and administrators. Cyrus ignores the exit status, so every path exits 0
/// except a usage error typed by a person.
/// </summary>
internal static class DealerCommand
{
    public const string Usage =
        "usage: bonnie-dealer [-c <Event>] [-p <x>] [-u <x>] [-m <x>] [-f] < notification.json\n" +
        "       bonnie-dealer --drain     deliver every spooled event now, report counts on stderr\n" +
        "       bonnie-dealer --help\n" +
        "configuration: /etc/bonnie/dealer.conf (or $BONNIE_DEALER_CONFIG), BONNIE_DEALER_<KEY> variables win\n";

    public static int Run(string[] args, Func<Stream> openStdin, TimeProvider time)
    {
        var start = time.GetTimestamp();
        string? eventName = null;
        var drain = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-c" when i + 1 < args.Length:
                    eventName = args[++i];
                    break;
                case "-p" or "-u" or "-m" when i + 1 < args.Length:
                    i++;
                    break;
                case "--drain":
                    drain = true;
                    break;
                case "--help" or "-h":
                    StandardError.Write(Usage.TrimEnd());
                    return 0;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        StandardError.Write($"unknown option {args[i]}\n{Usage.TrimEnd()}");
                        return 2;
                    }
                    break; // Cyrus's other flags, present or not, mean nothing to us.
            }
        }

        var problems = new List<string>();
        var options = DealerConfiguration.Load(Environment.GetEnvironmentVariable, problems);
        foreach (var problem in problems)
        {
            StandardError.Write(problem);
        }
        var spool = new EventSpool(options.SpoolDirectories, time);
        if (drain)
        {
            return DrainCommand.Run(options, spool, time);
        }

        byte[] notification;
        try
        {
            using var stdin = openStdin();
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            notification = buffer.ToArray();
        }
        catch (IOException e)
        {
            StandardError.Write($"cannot read the notification from stdin: {e.Message}");
            return 0;
        }
        if (notification.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            StandardError.Write($"empty notification on stdin for event '{eventName}'; nothing to send");
            return 0;
        }
        if (EventFilter.ShouldDrop(options, eventName, notification))
        {
            return 0;
        }
        try
        {
            new OneShotDelivery(options, spool, time, start).Run(notification);
        }
        catch (Exception e) // whatever went wrong, Cyrus will not retry: the event must still be kept somewhere
        {
            KeepAfterFailure(spool, notification, e);
        }
        return 0;
    }

    private static void KeepAfterFailure(EventSpool spool, byte[] notification, Exception failure)
    {
        var why = $"unexpected {failure.GetType().Name}: {failure.Message}";
        try
        {
            StandardError.Write($"{why}; event spooled to {spool.Store(notification)}");
        }
        catch (Exception e) // last resort: the event goes to Cyrus's log
        {
            StandardError.Write($"{why}; the spool cannot be written ({e.Message}); the event is: ", notification);
        }
    }
}
