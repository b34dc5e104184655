using Bonnie.Dealer.Configuration;
using Bonnie.Dealer.Transport;

namespace Bonnie.Dealer.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public void Load_NoFileNoEnvironment_DefaultsWithoutComplaint()
    {
        var problems = new List<string>();
        var environment = new Dictionary<string, string> { ["HOME"] = "/var/lib/cyrus" };

        var options = DealerConfiguration.Load(environment.GetValueOrDefault, problems, "/nonexistent/dealer.conf");

        Assert.Empty(problems);
        Assert.Equal([new BrokerEndpoint("127.0.0.1", 5570)], options.Brokers);
        Assert.Equal(TimeSpan.FromSeconds(1), options.Timeout);
        Assert.Equal(["/var/spool/bonnie/dealer", "/var/lib/cyrus/.local/state/bonnie/dealer-spool"], options.SpoolDirectories);
        Assert.Empty(options.DropEvents);
        Assert.Empty(options.DropUsers);
    }

    [Fact]
    public void Load_FileWithSeveralBrokersAndEnvironmentTimeout_BothApplyEnvironmentWins()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """
                # brokers in order of preference
                [dealer]
                broker = tcp://broker-a.example.org:5570, tcp://[::1]:5571
                timeout_ms = 250
                spool = /srv/spool
                ; drop what nobody archives
                drop_events = MailboxModseq
                """);
            var environment = new Dictionary<string, string>
            {
                ["BONNIE_DEALER_CONFIG"] = file,
                ["BONNIE_DEALER_TIMEOUT_MS"] = "800",
            };
            var problems = new List<string>();

            var options = DealerConfiguration.Load(environment.GetValueOrDefault, problems);

            Assert.Empty(problems);
            Assert.Equal([new BrokerEndpoint("broker-a.example.org", 5570), new BrokerEndpoint("::1", 5571)], options.Brokers);
            Assert.Equal(TimeSpan.FromMilliseconds(800), options.Timeout);
            Assert.Equal(["/srv/spool"], options.SpoolDirectories);
            Assert.Contains("MailboxModseq", options.DropEvents);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("udp://127.0.0.1:5570", "must start with tcp://")]
    [InlineData("tcp://127.0.0.1", "needs a port")]
    [InlineData("tcp://*:5570", "needs a host")]
    public void Load_BadBroker_ReportedAndDefaultKept(string broker, string expected)
    {
        var environment = new Dictionary<string, string> { ["BONNIE_DEALER_BROKER"] = broker };
        var problems = new List<string>();

        var options = DealerConfiguration.Load(environment.GetValueOrDefault, problems, "/nonexistent/dealer.conf");

        Assert.Contains(problems, p => p.Contains(expected, StringComparison.Ordinal));
        Assert.Equal([new BrokerEndpoint("127.0.0.1", 5570)], options.Brokers);
    }
}
