using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Bonnie.EndToEnd.Tests.Neighbours;

namespace Bonnie.EndToEnd.Tests.Pipeline;

/// <summary>The published NativeAOT dealer against the real broker process: down, spooled, back, drained, once.</summary>
[Collection(PipelineCollection.Name)]
public sealed class DealerToBrokerTests
{
    [Fact]
    public async Task BrokerDown_DealersSpool_BrokerBack_SpoolDrainsAndEachEventIsProcessedOnce()
    {
        using var layout = new PipelineLayout();
        var spool = Path.Combine(layout.Directory, "spool");
        var record = Path.Combine(layout.Directory, "record");
        var events = Enumerable.Range(0, 24).Select(i =>
            $$"""{"event":"MessageRead","timestamp":"2026-11-29T11:20:39.645Z","uri":"imap://imap.example.org/user/u{{i % 3}}%40example.org;UIDVALIDITY=1","uidset":"{{i}}","user":"u{{i % 3}}@example.org"}""").ToList();

        // Broker down: every dealer comes back within its timeout and keeps its event.
        var runs = await Task.WhenAll(events.Select((e, i) => Dealer.RunAsync(e, layout.ClientEndpoint, spool, throttle: i)));
        Assert.All(runs, r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(events.Count, Directory.GetFiles(spool).Length);

        var both = layout.Broker();
        both["Bonnie__Worker__Enabled"] = "true";
        foreach (var (key, value) in layout.Worker("w", record))
        {
            if (key.StartsWith("Bonnie__Worker__", StringComparison.Ordinal))
            {
                both[key] = value;
            }
        }
        using var bonnie = await BonnieProcess.StartAsync(both, "Worker w connected");
        var drain = await Dealer.RunAsync(null, layout.ClientEndpoint, spool, drain: true);

        Assert.Equal(0, drain.ExitCode);
        Assert.Empty(Directory.GetFiles(spool));
        await Eventually.LinesAsync(record, events.Count, TimeSpan.FromSeconds(60));
        var expected = events.Select(e => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(e)))).ToHashSet();
        var recorded = File.ReadAllLines(record);
        Assert.Equal(recorded.Length, recorded.Distinct().Count());
        Assert.True(expected.SetEquals(recorded));
    }

    [Fact]
    public async Task BrokerUp_DealerDeliversDirectlyAndLeavesNoSpool()
    {
        using var layout = new PipelineLayout();
        var spool = Path.Combine(layout.Directory, "spool");
        var record = Path.Combine(layout.Directory, "record");
        var both = layout.Broker();
        both["Bonnie__Worker__Enabled"] = "true";
        both["Bonnie__Worker__RecordTo"] = record;
        both["Bonnie__Worker__ControllerEndpoint"] = $"tcp://127.0.0.1:{layout.ControllerPort}";
        both["Bonnie__Worker__WorkerEndpoint"] = $"tcp://127.0.0.1:{layout.WorkerPort}";
        using var bonnie = await BonnieProcess.StartAsync(both, "Broker listening");
        var notification = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", "MessageNew.json"));

        var run = await Dealer.RunAsync(notification, layout.ClientEndpoint, spool);

        Assert.Equal(0, run.ExitCode);
        Assert.True(!Directory.Exists(spool) || Directory.GetFiles(spool).Length == 0, run.Error);
        await Eventually.LinesAsync(record, 1, TimeSpan.FromSeconds(30));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(notification))), File.ReadAllLines(record).Single());
    }
}

internal static class Dealer
{
    private static readonly SemaphoreSlim Slots = new(4);

    public sealed record Run(int ExitCode, string Error);

    /// <summary>Runs the real dealer as Cyrus does (argv, stdin), a few at a time.</summary>
    public static async Task<Run> RunAsync(string? notification, string broker, string spool, bool drain = false, int throttle = 0)
    {
        await Slots.WaitAsync();
        try
        {
            var start = new ProcessStartInfo(CyrusFixture.DealerProgram())
            {
                RedirectStandardInput = true,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var arg in drain ? new[] { "--drain" } : ["-c", "MessageRead", "-p", "", "-u", "", "-m", "", "-f"])
            {
                start.ArgumentList.Add(arg);
            }
            start.Environment["BONNIE_DEALER_CONFIG"] = "/nonexistent";
            start.Environment["BONNIE_DEALER_BROKER"] = broker;
            start.Environment["BONNIE_DEALER_SPOOL"] = spool;
            start.Environment["BONNIE_DEALER_TIMEOUT_MS"] = "300";
            using var process = Process.Start(start)!;
            if (notification is not null)
            {
                await process.StandardInput.WriteAsync(notification);
            }
            process.StandardInput.Close();
            var error = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return new Run(process.ExitCode, error);
        }
        finally
        {
            Slots.Release();
        }
    }
}
