using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Pipeline.Tests.Broker;

/// <summary>A real broker on loopback ports chosen by the system, over a queue in a temporary directory.</summary>
internal sealed class BrokerHarness : IDisposable
{
    private readonly List<JobWorker> _workers = [];
    private readonly List<ServiceProvider> _providers = [];

    private readonly TimeProvider _time;

    public BrokerHarness(Action<BrokerOptions>? configure = null, string? directory = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        Directory = directory ?? System.IO.Directory.CreateTempSubdirectory("bonnie-broker-").FullName;
        Options = new BrokerOptions
        {
            ClientEndpoint = "tcp://127.0.0.1:0",
            WorkerEndpoint = "tcp://127.0.0.1:0",
            ControllerEndpoint = "tcp://127.0.0.1:0",
            CollectorEndpoint = "tcp://127.0.0.1:0",
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            // Two seconds of silence before a worker counts as lost: a loaded CI machine can pause a process for
            // a few hundred milliseconds, and a false loss would spend one of a job's attempts.
            HeartbeatLiveness = 20,
            PostponeDelay = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(Options);
        Broker = new JobBroker(Options, Directory, _time, NullLogger<JobBroker>.Instance, Monitor);
        Broker.Start();
    }

    public string Directory { get; }
    public BrokerOptions Options { get; }
    public BrokerMonitor Monitor { get; } = new();
    public JobBroker Broker { get; private set; }

    /// <summary>Submits like a dealer: one frame, then waits for one frame back.</summary>
    public string Submit(string notification) => Submit(Encoding.UTF8.GetBytes(notification));

    public string Submit(byte[] notification)
    {
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(Broker.ClientEndpoint);
        dealer.SendFrame(notification);
        Assert.True(dealer.TryReceiveFrameString(TimeSpan.FromSeconds(10), out var reply), "the broker did not answer within 10 s");
        return reply!;
    }

    /// <summary>Submits <paramref name="count"/> notifications of <paramref name="user"/>'s mailbox; their job ids in order.</summary>
    public List<string> SubmitJobs(string user, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var notification = Notifications.For(user);
            Assert.Equal(WireProtocol.Ack, Submit(notification));
            ids.Add(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(notification))));
        }
        return ids;
    }

    public JobWorker StartWorker(IJobProcessor processor, int concurrency = 4, string? name = null, TimeSpan? heartbeat = null, int? maxBatch = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(processor);
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        var worker = new JobWorker(
            new WorkerOptions
            {
                WorkerEndpoint = Broker.WorkerEndpoint,
                ControllerEndpoint = Broker.ControllerEndpoint,
                Concurrency = concurrency,
                MaxBatch = maxBatch ?? new WorkerOptions().MaxBatch,
                HeartbeatInterval = heartbeat ?? TimeSpan.FromMilliseconds(100),
                Name = name ?? "",
            },
            provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);
        worker.Start();
        _workers.Add(worker);
        return worker;
    }

    /// <summary>Stops the broker as a crash would leave it (its queue file stays) and starts a new one on it.</summary>
    public void Restart()
    {
        Options.ClientEndpoint = Broker.ClientEndpoint;
        Options.WorkerEndpoint = Broker.WorkerEndpoint;
        Options.ControllerEndpoint = Broker.ControllerEndpoint;
        Options.CollectorEndpoint = Broker.CollectorEndpoint;
        Broker.Dispose();
        // NetMQ releases a closed socket's port on its own I/O thread, a moment later: wait for the port, bounded.
        for (var attempt = 0; ; attempt++)
        {
            Broker = new JobBroker(Options, Directory, _time, NullLogger<JobBroker>.Instance, Monitor);
            try
            {
                Broker.Start();
                return;
            }
            catch (AddressAlreadyInUseException) when (attempt < 50)
            {
                Broker.Dispose();
                Thread.Sleep(100);
            }
        }
    }

    public async Task WaitUntilAsync(Func<BrokerSnapshot, bool> condition, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(BrokerSnapshot s)
        {
            if (condition(s))
            {
                done.TrySetResult();
            }
        }
        Monitor.Changed += OnChanged;
        try
        {
            OnChanged(Monitor.Current);
            await done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(20));
        }
        finally
        {
            Monitor.Changed -= OnChanged;
        }
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }
        Broker.Dispose();
        foreach (var provider in _providers)
        {
            provider.Dispose();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The system's clock, which a test can step forward, as a paused process or a clock set forward sees it.</summary>
internal sealed class SteppableTime : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Step(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

/// <summary>Records the jobs it is given, in order, and answers with what the test scripted.</summary>
internal sealed class ScriptedProcessor(Func<Job, Task<JobOutcome>>? script = null) : IJobProcessor
{
    private int _running;

    public ConcurrentQueue<Job> Seen { get; } = new();
    public int MaxConcurrent { get; private set; }

    public async Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default)
    {
        var running = Interlocked.Increment(ref _running);
        lock (Seen)
        {
            MaxConcurrent = Math.Max(MaxConcurrent, running);
        }
        try
        {
            Seen.Enqueue(job);
            return script is null ? JobOutcome.Success : await script(job);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}

internal static class Notifications
{
    private static int _counter;

    /// <summary>A realistic notification for a mailbox of <paramref name="user"/> (unique each call).</summary>
    public static string For(string user, string @event = "MessageRead", string folder = "")
    {
        var n = Interlocked.Increment(ref _counter);
        var local = user.Split('@')[0];
        var mailbox = folder.Length == 0 ? $"user/{local}%40example.org" : $"user/{local}/{folder}%40example.org";
        return $$"""{"event":"{{@event}}","timestamp":"2026-11-29T11:20:39.{{n % 1000:D3}}Z","service":"imap","uri":"imap://imap.example.org/{{mailbox}};UIDVALIDITY=1795951197","uidset":"{{n}}","user":"{{user}}","vnd.cmu.sessionId":"s-{{n}}"}""";
    }
}
