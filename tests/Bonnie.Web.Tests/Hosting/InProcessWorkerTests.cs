using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Shared.Storage;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Web.Tests.Hosting;

/// <summary>The whole system in one process, as <c>dotnet run</c> starts it, with the broker's ports moved.</summary>
public sealed class InProcessWorkerTests
{
    [Fact]
    public async Task BrokerEndpointsMoved_WorkerLeftAtItsDefaults_FollowsItsBroker_EventStored()
    {
        // Found by a review: the worker kept connecting to 5560/5561, so every event was acknowledged and none stored.
        var client = $"tcp://127.0.0.1:{FreePort.Next()}";
        using var factory = new BonnieWebFactory(new Dictionary<string, string?>
        {
            ["Bonnie:Broker:Enabled"] = "true",
            ["Bonnie:Broker:ClientEndpoint"] = client,
            ["Bonnie:Broker:WorkerEndpoint"] = $"tcp://127.0.0.1:{FreePort.Next()}",
            ["Bonnie:Broker:ControllerEndpoint"] = $"tcp://127.0.0.1:{FreePort.Next()}",
            ["Bonnie:Broker:CollectorEndpoint"] = $"tcp://127.0.0.1:{FreePort.Next()}",
            ["Bonnie:Worker:Enabled"] = "true",
        });
        var store = factory.Services.GetRequiredService<IBonnieStore>();
        var login = Encoding.UTF8.GetBytes(TestStore.Fixture("Login"));

        using (var dealer = new DealerSocket())
        {
            dealer.Connect(client);
            dealer.SendFrame(login);
            Assert.True(dealer.TryReceiveFrameString(TimeSpan.FromSeconds(30), out var reply));
            Assert.Equal("ACK", reply);
        }

        var id = Convert.ToHexStringLower(SHA256.HashData(login));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await store.GetEventAsync(id) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The event was acknowledged but never stored: the worker is not connected to its broker.");
            await Task.Delay(100);
        }
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:5560", "tcp://127.0.0.1:5560")]
    [InlineData("tcp://*:5560", "tcp://127.0.0.1:5560")]
    [InlineData("tcp://0.0.0.0:6000", "tcp://127.0.0.1:6000")]
    [InlineData("tcp://[::]:6000", "tcp://[::1]:6000")]
    [InlineData("tcp://10.0.0.5:5560", "tcp://10.0.0.5:5560")]
    [InlineData("ipc:///run/bonnie/workers", "ipc:///run/bonnie/workers")]
    public void ConnectTo_TheBoundEndpoint_ReachedOverLoopbackWhenWildcard(string bound, string connect)
    {
        Assert.Equal(connect, BrokerOptions.ConnectTo(bound));
    }
}
