namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>What the real dealer relies on when notifyd starts it: its configuration reaches it as user cyrus.</summary>
[Collection(CyrusCollection.Name)]
public sealed class CyrusDealerEnvironmentTests(CyrusDealerEnvironmentTests.ProbedCyrus cyrus)
    : IClassFixture<CyrusDealerEnvironmentTests.ProbedCyrus>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Notification_WithDealerConfig_ProgramRunsAsCyrusAndReadsTheConfig()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var report = Path.Combine(cyrus.EventsDirectory, "environment.txt");
        File.Delete(report);

        using (var client = await cyrus.ConnectAsync(cyrus.Alice, cancel.Token))
        {
            await client.DisconnectAsync(quit: true, cancel.Token);
        }

        var lines = await WaitForReportAsync(report, cancel.Token);
        Assert.Equal("user=cyrus group=mail umask=0077 cwd=/var/lib/cyrus", lines[0]);
        Assert.Equal($"config={cyrus.DealerDirectory}/dealer.config", lines[1]);
        Assert.Equal("extra=passed through", lines[2]);
        Assert.Equal("content=" + ProbedCyrus.ConfigContent, lines[3]);
        Assert.StartsWith("event={\"event\":\"Log", lines[4], StringComparison.Ordinal); // the start's admin Logout may come first
    }

    private static async Task<string[]> WaitForReportAsync(string report, CancellationToken cancellationToken)
    {
        // notifyd writes the report from its own process; nothing signals this one when it has.
        while (true)
        {
            if (File.Exists(report))
            {
                var lines = await File.ReadAllLinesAsync(report, cancellationToken);
                if (lines.Length >= 5)
                {
                    return lines;
                }
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    public sealed class ProbedCyrus : CyrusFixture
    {
        public const string ConfigContent = "{\"broker\":\"tcp://127.0.0.1:5570\"}";

        private static readonly string ConfigFile = WriteConfig();

        public ProbedCyrus()
            : base(
                RepositoryRoot.Combine("tests", "Bonnie.EndToEnd.Tests", "Neighbours", "notify-environment-probe.sh"),
                new Dictionary<string, string> { ["BONNIE_TEST_EXTRA"] = "passed through" },
                ConfigFile)
        {
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            File.Delete(ConfigFile);
        }

        private static string WriteConfig()
        {
            var file = Path.GetTempFileName();
            File.WriteAllText(file, ConfigContent);
            return file;
        }
    }
}
