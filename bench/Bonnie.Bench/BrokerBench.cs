using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Bench;

/// <summary>
/// Durable submit throughput: concurrent windowed DEALER clients against the real broker (journal fsynced before
/// each ACK), next to the same clients against a ROUTER that ACKs at once and keeps nothing (the transport's own
/// ceiling), in the same run. Reports events/s, ACK latency p50/p99 and the ratio.
/// </summary>
internal static class BrokerBench
{
    public static int Run(string[] args)
    {
        var events = BenchArgs.Int(args, "--events", 40_000);
        var clients = BenchArgs.Int(args, "--clients", 8);
        var window = BenchArgs.Int(args, "--window", 200);
        var payloads = Realistic(events);
        Console.WriteLine($"broker bench: {events} realistic notifications, {clients} clients, window {window} each");

        // Interleaved rounds, so that the machine's noise falls on both alike.
        var durable = new List<Result>();
        var baseline = new List<Result>();
        for (var round = 0; round < 3; round++)
        {
            baseline.Add(RunBaseline(payloads, clients, window));
            durable.Add(RunDurable(payloads, clients, window));
        }
        var d = durable.OrderBy(r => r.PerSecond).ElementAt(1);
        var b = baseline.OrderBy(r => r.PerSecond).ElementAt(1);
        Console.WriteLine($"baseline (ACK at once, nothing kept): {b.PerSecond,10:N0} events/s  ack p50 {b.P50,7:N2} ms  p99 {b.P99,7:N2} ms");
        Console.WriteLine($"broker (durable, group commit):      {d.PerSecond,10:N0} events/s  ack p50 {d.P50,7:N2} ms  p99 {d.P99,7:N2} ms");
        Console.WriteLine($"ratio durable/baseline: {d.PerSecond / b.PerSecond:N2} (median of 3 interleaved rounds)");

        var dealer = DealerPath();
        if (dealer is null)
        {
            Console.WriteLine("one process per event: skipped, publish the dealer first (dotnet publish Bonnie.Dealer -c Release -o artifacts/dealer)");
            return 0;
        }
        var perProcess = BenchArgs.Int(args, "--processes", 600);
        var parallel = BenchArgs.Int(args, "--parallel", 4);
        var p = RunDealerProcesses(dealer, payloads.Take(perProcess).ToArray(), parallel);
        Console.WriteLine($"one dealer process per event ({parallel} at a time, durable broker): {p.PerSecond,8:N0} events/s  process p50 {p.P50,7:N2} ms  p99 {p.P99,7:N2} ms");
        return 0;
    }

    /// <summary>A broker's options for a bench: every endpoint on loopback, on a port the system picks.</summary>
    internal static BrokerOptions Loopback() => new()
    {
        ClientEndpoint = "tcp://127.0.0.1:0", WorkerEndpoint = "tcp://127.0.0.1:0",
        ControllerEndpoint = "tcp://127.0.0.1:0", CollectorEndpoint = "tcp://127.0.0.1:0",
    };

    private static string? DealerPath()
    {
        var path = Environment.GetEnvironmentVariable("BONNIE_DEALER_PATH");
        if (path is null)
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && path is null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "artifacts", "dealer", "bonnie-dealer");
                path = File.Exists(candidate) ? candidate : null;
            }
        }
        return path is not null && File.Exists(path) ? path : null;
    }

    /// <summary>What Cyrus does: one dealer process per event, a few at once, each waiting for its ACK.</summary>
    private static Result RunDealerProcesses(string dealer, byte[][] payloads, int parallel)
    {
        var directory = Directory.CreateTempSubdirectory("bonnie-bench-dealer-").FullName;
        try
        {
            var options = Loopback();
            using var broker = new JobBroker(options, Path.Combine(directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, new BrokerMonitor());
            broker.Start();
            var latencies = new double[payloads.Length];
            var next = -1;
            var stopwatch = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, parallel).Select(_ => new Thread(() =>
            {
                for (var i = Interlocked.Increment(ref next); i < payloads.Length; i = Interlocked.Increment(ref next))
                {
                    var start = new ProcessStartInfo(dealer, ["-c", "MessageRead", "-p", "", "-u", "", "-m", "", "-f"])
                    {
                        RedirectStandardInput = true,
                        RedirectStandardError = true,
                        UseShellExecute = false,
                    };
                    start.Environment["BONNIE_DEALER_CONFIG"] = "/dev/null";
                    start.Environment["BONNIE_DEALER_BROKER"] = broker.ClientEndpoint;
                    start.Environment["BONNIE_DEALER_SPOOL"] = Path.Combine(directory, "spool");
                    var began = Stopwatch.GetTimestamp();
                    using var process = Process.Start(start)!;
                    process.StandardInput.BaseStream.Write(payloads[i]);
                    process.StandardInput.Close();
                    process.StandardError.ReadToEnd();
                    process.WaitForExit();
                    latencies[i] = Stopwatch.GetElapsedTime(began).TotalMilliseconds;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            var elapsed = stopwatch.Elapsed.TotalSeconds;
            var spooled = Directory.Exists(Path.Combine(directory, "spool")) ? Directory.GetFiles(Path.Combine(directory, "spool")).Length : 0;
            if (spooled > 0)
            {
                Console.WriteLine($"  note: {spooled} events were spooled (no ACK within the dealer's timeout)");
            }
            Array.Sort(latencies);
            return new Result(payloads.Length / elapsed, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed record Result(double PerSecond, double P50, double P99);

    private static Result RunDurable(byte[][] payloads, int clients, int window)
    {
        var directory = Directory.CreateTempSubdirectory("bonnie-bench-broker-").FullName;
        try
        {
            var options = Loopback();
            using var broker = new JobBroker(options, directory, TimeProvider.System, NullLogger<JobBroker>.Instance, new BrokerMonitor());
            broker.Start();
            return Drive(broker.ClientEndpoint, payloads, clients, window);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Result RunBaseline(byte[][] payloads, int clients, int window)
    {
        using var router = new RouterSocket();
        router.Options.RouterMandatory = true;
        router.Options.ReceiveHighWatermark = 100_000;
        router.Options.SendHighWatermark = 100_000;
        var port = router.BindRandomPort("tcp://127.0.0.1");
        router.ReceiveReady += (_, _) =>
        {
            var message = new NetMQMessage();
            while (router.TryReceiveMultipartMessage(ref message))
            {
                router.SendMoreFrame(message[0].ToByteArray()).SendFrame(WireProtocol.Ack);
                message = new NetMQMessage();
            }
        };
        using var poller = new NetMQPoller { router };
        poller.RunAsync();
        var result = Drive($"tcp://127.0.0.1:{port}", payloads, clients, window);
        poller.Stop();
        return result;
    }

    private static Result Drive(string endpoint, byte[][] payloads, int clients, int window)
    {
        var latencies = new double[payloads.Length];
        var stopwatch = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, clients).Select(c => new Thread(() =>
        {
            using var dealer = new DealerSocket();
            dealer.Options.SendHighWatermark = window * 2;
            dealer.Connect(endpoint);
            var sentAt = new Queue<(int Index, long Ticks)>();
            for (var i = c; i < payloads.Length || sentAt.Count > 0;)
            {
                while (i < payloads.Length && sentAt.Count < window)
                {
                    sentAt.Enqueue((i, Stopwatch.GetTimestamp()));
                    dealer.SendFrame(payloads[i]);
                    i += clients;
                }
                if (!dealer.TryReceiveFrameString(TimeSpan.FromSeconds(30), out var reply) || reply != WireProtocol.Ack)
                {
                    throw new InvalidOperationException($"no ACK within 30 s (got {reply})");
                }
                // The broker answers one client's submissions in order, so the oldest outstanding one was acknowledged.
                var (index, ticks) = sentAt.Dequeue();
                latencies[index] = Stopwatch.GetElapsedTime(ticks).TotalMilliseconds;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Result(payloads.Length / elapsed, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
    }

    /// <summary>Real Cyrus notifications with varied users, UIDs and session ids, so each one is a distinct job.</summary>
    internal static byte[][] Realistic(int count)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events");
        var templates = Directory.GetFiles(directory, "*.json").Select(File.ReadAllText).ToArray();
        var result = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var text = templates[i % templates.Length]
                .Replace("alice", "user" + (i % 500).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("\"pid\":", $"\"seq\":{i},\"pid\":", StringComparison.Ordinal);
            result[i] = Encoding.UTF8.GetBytes(text);
        }
        return result;
    }
}
