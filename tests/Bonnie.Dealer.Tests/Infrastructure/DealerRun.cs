using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Bonnie.Dealer.Tests.Infrastructure;

/// <summary>What one dealer process did, seen from outside as Cyrus sees it.</summary>
/// <param name="Elapsed">
/// From just before the dealer is started to just after it has been reaped, timed by a small bash parent (as
/// notifyd, a C program, would see it) rather than by this test host, whose own thread wake-ups on a busy
/// machine would add tens of milliseconds that are not the dealer's.
/// </param>
internal sealed record DealerRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    private const string TimingParent =
        "s=$EPOCHREALTIME; \"$0\" \"$@\"; rc=$?; e=$EPOCHREALTIME; printf '%s %s' \"$s\" \"$e\" > \"$DEALER_TEST_TIMING\"; exit $rc";

    /// <summary>Runs the dealer as notifyd does: Cyrus's arguments, the notification on stdin, then EOF.</summary>
    public static Task<DealerRun> NotifyAsync(DealerSandbox sandbox, string eventName, byte[] notification) =>
        StartAsync(sandbox, ["-c", eventName, "-p", "", "-u", "", "-m", "", "-f"], notification);

    public static Task<DealerRun> DrainAsync(DealerSandbox sandbox) => StartAsync(sandbox, ["--drain"], []);

    public static async Task<DealerRun> StartAsync(DealerSandbox sandbox, string[] args, byte[] stdin)
    {
        var timing = Path.Combine(sandbox.Root, $"timing-{Guid.NewGuid():N}");
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(TimingParent);
        start.ArgumentList.Add(DealerBinary.Path);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("BONNIE_DEALER_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in sandbox.Environment)
        {
            start.Environment[key] = value;
        }
        start.Environment["DEALER_TEST_TIMING"] = timing;
        start.Environment["LC_ALL"] = "C"; // EPOCHREALTIME with a '.'

        using var process = Process.Start(start) ?? throw new InvalidOperationException("the dealer did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        using var hang = new CancellationTokenSource(HangLimit);
        try
        {
            await process.WaitForExitAsync(hang.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"the dealer ({string.Join(' ', args)}) did not exit within {HangLimit}");
        }
        var times = (await File.ReadAllTextAsync(timing)).Split(' ')
            .Select(t => decimal.Parse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture)).ToArray();
        File.Delete(timing);
        return new DealerRun(process.ExitCode, await stdout, await stderr, TimeSpan.FromSeconds((double)(times[1] - times[0])));
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
