using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Hosting;
using Bonnie.Pipeline.Storage;
using Bonnie.Pipeline.Tests.Broker;
using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Protocol;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// A delivery whose payload no source has goes through the real broker: postponed, retried, and in the end kept
/// without its payload, as long as the broker allows more attempts than the payload fetcher uses.
/// </summary>
public sealed class PayloadAttemptsTests
{
    [Theory]
    [InlineData(3, 4, true)]
    // The setting the start-up check refuses: the broker's last attempt comes first and the job is FAILED.
    [InlineData(4, 4, false)]
    public async Task Delivery_NoSourceHasThePayload_PostponedThroughTheBrokerThenKeptOnlyWhileTheBrokerAllowsMoreAttempts(
        int payloadAttempts, int brokerAttempts, bool kept)
    {
        using var harness = new BrokerHarness(o => o.MaxAttempts = brokerAttempts);
        await using var p = await TestPipeline.CreateAsync([EmptySpool()], maxAttempts: payloadAttempts,
            retryAfter: TimeSpan.FromMilliseconds(50));
        harness.StartWorker(p.Processor);
        var json = Fixture.Event("MessageNew");

        Assert.Equal(WireProtocol.Ack, harness.Submit(json));

        var id = TestPipeline.JobFor(json).Id;
        await harness.WaitUntilAsync(s => s.Jobs[kept ? JobState.Done : JobState.Failed] == 1, TimeSpan.FromSeconds(30));
        var stored = await p.Store.GetEventAsync(id);
        if (kept)
        {
            Assert.Equal(PayloadStatus.Missing, stored!.PayloadStatus);
            Assert.Empty(harness.Broker.ListFailed(10));
        }
        else
        {
            Assert.Null(stored);
            var failed = Assert.Single(harness.Broker.ListFailed(10));
            Assert.Equal(id, failed.Id);
            Assert.Contains("payload not available yet", failed.Reason, StringComparison.Ordinal);
        }
    }

    /// <summary>A spool partition that is configured but holds no message (the file is not there yet, or was expunged).</summary>
    private static SpoolPayloadSource EmptySpool() => new([Path.Combine(Path.GetTempPath(), "bonnie-tests-empty-spool")]);

    [Fact]
    public async Task Delivery_NoPayloadSourceConfigured_KeptWithoutItsPayloadAtOnce_TheMailboxsNextEventNotHeldUp()
    {
        // Found by two reviews: with nothing configured (the one-command start), each delivery was postponed five times,
        // 30 s apart, and every later event of the mailbox waited behind it; asking again could never help.
        using var harness = new BrokerHarness(o => o.MaxAttempts = 10);
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([]), new EventContentPayloadSource(), new CollectedPayloadSource()],
            maxAttempts: 5, retryAfter: TimeSpan.FromMinutes(10));
        harness.StartWorker(p.Processor);
        var delivery = Fixture.Event("MessageNew");
        var read = Fixture.Event("MessageRead");

        Assert.Equal(WireProtocol.Ack, harness.Submit(delivery));
        Assert.Equal(WireProtocol.Ack, harness.Submit(read));

        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 2, TimeSpan.FromSeconds(30));
        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(delivery).Id);
        Assert.Equal(PayloadStatus.Missing, stored!.PayloadStatus);
        Assert.NotNull(await p.Store.GetEventAsync(TestPipeline.JobFor(read).Id));
    }

    [Fact]
    public async Task FailedJobForwarder_JobTheBrokerGaveUpOn_InTheStoresQuarantineWithItsBytesOnce()
    {
        using var harness = new BrokerHarness(o => o.MaxAttempts = 2);
        await using var p = await TestPipeline.CreateAsync([EmptySpool()], maxAttempts: 5, retryAfter: TimeSpan.FromMilliseconds(50));
        harness.StartWorker(p.Processor);
        var json = Fixture.Event("MessageNew");
        Assert.Equal(WireProtocol.Ack, harness.Submit(json));
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Failed] == 1, TimeSpan.FromSeconds(30));
        var forwarder = new FailedJobForwarder(harness.Broker, p.Store, TimeProvider.System, NullLogger<FailedJobForwarder>.Instance);

        var forwarded = await forwarder.ForwardAsync(CancellationToken.None);
        var again = await forwarder.ForwardAsync(CancellationToken.None);

        Assert.Equal((1, 0), (forwarded, again));
        var item = Assert.Single((await p.Store.GetQuarantineAsync(10, null)).Items);
        Assert.Equal(TestPipeline.JobFor(json).Id, item.JobId);
        Assert.Equal(QuarantineStages.Broker, item.Stage);
        Assert.StartsWith("the broker gave up after 2 attempts: postponed 2 times", item.Reason, StringComparison.Ordinal);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(json), item.Raw.ToArray());
        Assert.False(item.EventStored);
    }

    [Theory]
    [InlineData("8", null, "Bonnie:Payloads:MaxAttempts (8) must be below Bonnie:Broker:MaxAttempts (8)")]
    [InlineData("5", "5", "Bonnie:Payloads:MaxAttempts (5) must be below Bonnie:Broker:MaxAttempts (5)")]
    public async Task StartAsync_PayloadAttemptsNotBelowTheBrokers_StopsTheHostNamingBothSettings(string payloads, string? broker, string expected)
    {
        var data = Directory.CreateTempSubdirectory("bonnie-attempts-");
        try
        {
            var builder = Host.CreateApplicationBuilder();
            var settings = new Dictionary<string, string?>
            {
                ["Bonnie:DataDirectory"] = data.FullName,
                ["Bonnie:Payloads:MaxAttempts"] = payloads,
            };
            if (broker is not null)
            {
                settings["Bonnie:Broker:MaxAttempts"] = broker;
            }
            builder.Configuration.AddInMemoryCollection(settings);
            builder.AddBonniePipeline();
            builder.AddBonnieStore();
            using var host = builder.Build();
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));

            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(cancel.Token));

            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public void Validate_PayloadAttemptsBelowTheBrokers_Accepted()
    {
        var broker = Options.Create(new BrokerOptions { MaxAttempts = 8 });

        Assert.True(new ValidatePayloadAttemptsAgainstBroker(broker).Validate(null, new PayloadOptions { MaxAttempts = 7 }).Succeeded);
        Assert.True(new ValidatePayloadAttemptsAgainstBroker(broker).Validate(null, new PayloadOptions { MaxAttempts = 8 }).Failed);
    }
}
