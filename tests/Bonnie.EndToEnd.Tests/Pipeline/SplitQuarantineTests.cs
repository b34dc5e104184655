using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bonnie.Shared.Protocol;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.EndToEnd.Tests.Pipeline;

/// <summary>
/// The deployment with the broker, store and web host in one process and the workers in others, on the same store.
/// A job the broker gives up on was never stored by any worker; the broker's process puts it in the store's quarantine,
/// where an officer of either process sees it with its bytes and the broker's reason.
/// </summary>
public sealed class SplitQuarantineTests : IDisposable
{
    private const string ApiKey = "split-quarantine-test-key-0123456789";
    private readonly PipelineLayout _layout = new();

    [Fact]
    public async Task JobTheBrokerGaveUpOn_WorkerInAnotherProcess_InTheQuarantineOfTheSharedStore()
    {
        var store = Path.Combine(_layout.Directory, "store");
        var emptySpool = Directory.CreateDirectory(Path.Combine(_layout.Directory, "spool")).FullName;
        var httpPort = BonnieProcess.FreePort();
        var host = _layout.Broker();
        host["Bonnie__Store__Directory"] = store;
        host["Bonnie__Broker__MaxAttempts"] = "2";
        // The host runs no worker; its payload setting only has to be below its broker's, as the start-up check asks.
        host["Bonnie__Payloads__MaxAttempts"] = "1";
        host["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}";
        host["Bonnie__ApiKeys__0__Name"] = "split";
        host["Bonnie__ApiKeys__0__Key"] = ApiKey;
        host["Bonnie__ApiKeys__0__Role"] = "Auditor";
        using var broker = await BonnieProcess.StartAsync(host, "Broker listening");

        var worker = new Dictionary<string, string>
        {
            ["Bonnie__DataDirectory"] = Path.Combine(_layout.Directory, "worker"),
            ["Bonnie__Store__Directory"] = store,
            ["Bonnie__Broker__Enabled"] = "false",
            ["Bonnie__Worker__Name"] = "split-worker",
            ["Bonnie__Worker__WorkerEndpoint"] = $"tcp://127.0.0.1:{_layout.WorkerPort}",
            ["Bonnie__Worker__ControllerEndpoint"] = $"tcp://127.0.0.1:{_layout.ControllerPort}",
            ["Bonnie__Worker__HeartbeatInterval"] = "00:00:00.250",
            // No source has the message: an empty spool, no IMAP. The worker postpones it until the broker gives up.
            ["Bonnie__Payloads__SpoolPartitions__0"] = emptySpool,
            ["Bonnie__Payloads__MaxAttempts"] = "5",
            ["Bonnie__Payloads__RetryAfter"] = "00:00:00.100",
        };
        using var workerProcess = await BonnieProcess.StartAsync(worker, "Worker split-worker connected");

        var notification = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", "MessageNew.json")).TrimEnd('\n');
        using (var dealer = new DealerSocket())
        {
            dealer.Options.Linger = TimeSpan.FromSeconds(5);
            dealer.Connect(_layout.ClientEndpoint);
            dealer.SendFrame(Encoding.UTF8.GetBytes(notification));
            Assert.True(dealer.TryReceiveFrameString(TimeSpan.FromSeconds(30), out var ack), "the broker did not acknowledge the event");
            Assert.Equal(WireProtocol.Ack, ack);
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        JsonElement? item = null;
        // The broker fails the job after its second postponement; its process looks at failed jobs every 10 s.
        for (var deadline = DateTime.UtcNow.AddSeconds(60); item is null && DateTime.UtcNow < deadline;)
        {
            using var response = await http.GetAsync(new Uri("/api/quarantine", UriKind.Relative));
            response.EnsureSuccessStatusCode();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            item = body.RootElement.GetProperty("items").EnumerateArray().Select(i => (JsonElement?)i.Clone())
                .FirstOrDefault(i => i!.Value.GetProperty("stage").GetString() == "broker");
            if (item is null)
            {
                await Task.Delay(500);
            }
        }

        _layout.KeepLog("host", broker.Output);
        _layout.KeepLog("worker", workerProcess.Output);
        Assert.True(item is not null, "no broker-stage quarantine record within 60 s; host log:\n" + broker.Output);
        Assert.Equal(notification, item.Value.GetProperty("rawText").GetString());
        Assert.False(item.Value.GetProperty("eventStored").GetBoolean());
        var reason = item.Value.GetProperty("reason").GetString()!;
        Assert.Contains("the broker gave up after 2 attempts", reason, StringComparison.Ordinal);
        Assert.Contains("payload not available yet", reason, StringComparison.Ordinal);
    }

    public void Dispose() => _layout.Dispose();
}
