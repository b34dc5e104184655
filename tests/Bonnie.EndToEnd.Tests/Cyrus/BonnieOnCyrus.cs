using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Bonnie.EndToEnd.Tests.Neighbours;
using Bonnie.EndToEnd.Tests.Pipeline;

namespace Bonnie.EndToEnd.Tests.Cyrus;

/// <summary>
/// Production's shape on one machine: a real Cyrus whose notifyd runs the published NativeAOT dealer, which sends
/// to a real Bonnie.Web process (broker, embedded store, JSON API; worker disabled), and a second Bonnie.Web
/// process that is only a worker, so a test can kill either. Both share one store directory and read message
/// payloads from Cyrus's spool partition (the worker runs on the IMAP host, as root here).
/// </summary>
public class BonnieOnCyrus : IAsyncLifetime
{
    public const string ApiKey = "e2e-admin-key-0123456789abcdef";
    public const string WorkerName = "cyrus-e2e-worker";
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("bonnie-cyrus-e2e-").FullName;
    private readonly int _clientPort = BonnieProcess.FreePort();
    private readonly int _workerPort = BonnieProcess.FreePort();
    private readonly int _controllerPort = BonnieProcess.FreePort();
    private readonly int _collectorPort = BonnieProcess.FreePort();
    private readonly int _httpPort = BonnieProcess.FreePort();
    private readonly bool _withCollector;
    private BonnieProcess? _host;
    private BonnieProcess? _worker;
    private BonnieProcess? _collector;

    /// <param name="withCollector">
    /// The worker off the IMAP host: no spool, no IMAP of its own, <c>UseCollector</c>; a bonnie-collector process
    /// beside Cyrus reads the spool and, as the admin, METADATA.
    /// </param>
    public BonnieOnCyrus(bool withCollector = false)
    {
        _withCollector = withCollector;
        var config = Path.Combine(_directory, "dealer.conf");
        Cyrus = new CyrusFixture(CyrusFixture.DealerProgram(), dealerConfigFile: config);
        File.WriteAllText(config, DealerConfig());
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    public CyrusFixture Cyrus { get; }

    public HttpClient Http { get; }

    /// <summary>Where the dealer spools what Bonnie did not acknowledge (cyrus.sh makes the directory cyrus's).</summary>
    public string DealerSpool => Path.Combine(Cyrus.DealerDirectory, "spool");

    public string DataDirectory => Path.Combine(_directory, "data");

    public string ClientEndpoint => $"tcp://127.0.0.1:{_clientPort}";

    public async Task InitializeAsync()
    {
        // Bonnie first, so that even the events of Cyrus's own start go straight to it, not to the spool.
        await StartHostAsync();
        await StartWorkerAsync();
        if (_withCollector)
        {
            _collector = await BonnieProcess.StartAsync(new Dictionary<string, string>
            {
                ["Bonnie__Collector__BrokerEndpoint"] = $"tcp://127.0.0.1:{_collectorPort}",
                ["Bonnie__Collector__Name"] = "cyrus-e2e-collector",
                ["Bonnie__Collector__SpoolPartitions__0"] = "/var/spool/cyrus/mail",
                ["Bonnie__Collector__HeartbeatInterval"] = "00:00:00.250",
                ["Bonnie__Collector__Imap__Host"] = Cyrus.Host,
                ["Bonnie__Collector__Imap__Port"] = Invariant(Cyrus.ImapPort),
                ["Bonnie__Collector__Imap__AdminUser"] = Cyrus.Admin,
                ["Bonnie__Collector__Imap__AdminPassword"] = Cyrus.Password,
            }, "Collector cyrus-e2e-collector connected", BonnieProcess.CollectorAssembly);
        }
        await Cyrus.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        _collector?.Dispose();
        StopWorker();
        StopHost();
        await Cyrus.DisposeAsync();
        Http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Broker, store and API; no worker.</summary>
    public async Task StartHostAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = Common();
        environment["Bonnie__Worker__Enabled"] = "false";
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_httpPort}";
        environment["Bonnie__ApiKeys__0__Name"] = "e2e";
        environment["Bonnie__ApiKeys__0__Key"] = ApiKey;
        environment["Bonnie__ApiKeys__0__Role"] = "Administrator";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        _host = await BonnieProcess.StartAsync(environment, "Broker listening");
    }

    /// <summary>A worker alone, on the same store; <paramref name="extra"/> overrides its settings (an empty value removes one).</summary>
    public async Task StartWorkerAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = Common();
        environment["Bonnie__Broker__Enabled"] = "false";
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{BonnieProcess.FreePort()}";
        environment["Bonnie__Worker__Name"] = WorkerName;
        environment["Bonnie__Worker__Concurrency"] = "4";
        if (_withCollector)
        {
            environment.Remove("Bonnie__Payloads__SpoolPartitions__0");
            environment["Bonnie__Payloads__UseCollector"] = "true";
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            if (value.Length == 0)
            {
                environment.Remove(key);
            }
            else
            {
                environment[key] = value;
            }
        }
        _worker = await BonnieProcess.StartAsync(environment, $"Worker {WorkerName} connected");
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void StopHost()
    {
        _host?.Dispose();
        _host = null;
    }

    public void StopWorker()
    {
        _worker?.Dispose();
        _worker = null;
    }

    /// <summary>
    /// Back to how the fixture starts (host and worker running; <paramref name="restartWorker"/> when a test gave the
    /// worker settings of its own), whatever a test stopped:
    /// a test that failed between stopping the host and starting it again left the next tests of its class with no
    /// host, and each of them failed for a minute with "connection refused" instead of only the one at fault.
    /// </summary>
    public async Task EnsureRunningAsync(bool restartWorker = false)
    {
        if (restartWorker)
        {
            StopWorker();
        }
        if (_host is null)
        {
            await StartHostAsync();
        }
        if (_worker is null)
        {
            await StartWorkerAsync();
        }
    }

    public string HostOutput => _host?.Output ?? "";

    /// <summary>Runs the installed dealer's drain as user cyrus, as an administrator would after an outage.</summary>
    public async Task DrainAsync()
    {
        var dealer = Path.Combine(Cyrus.StateDirectory, "bin", Path.GetFileName(CyrusFixture.DealerProgram()));
        var start = new ProcessStartInfo("su")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-s", "/bin/sh", "cyrus", "-c", $"BONNIE_DEALER_CONFIG='{Cyrus.DealerDirectory}/dealer.config' '{dealer}' --drain" })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"bonnie-dealer --drain exited {process.ExitCode}: {await error}");
    }

    /// <summary>GET an API path as JSON; null on 404.</summary>
    public async Task<JsonElement?> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Events matching an officers' query (oldest first).</summary>
    public async Task<IReadOnlyList<JsonElement>> SearchAsync(string query, CancellationToken cancellationToken)
    {
        var page = await GetAsync($"/api/events?limit=500&q={Uri.EscapeDataString(query + " sort:oldest")}", cancellationToken);
        return page!.Value.GetProperty("items").EnumerateArray().ToList();
    }

    /// <summary>
    /// Polls the API until <paramref name="probe"/> returns a value, or fails after the timeout with the last
    /// value seen. Nothing tells this process when another process has stored an event, so polling it is.
    /// </summary>
    public static async Task<T> EventuallyAsync<T>(Func<CancellationToken, Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultWait);
        Exception? last = null;
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                if (await probe(cancel.Token) is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !cancel.IsCancellationRequested)
            {
                last = ex;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(200, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        throw new TimeoutException($"not seen within {(timeout ?? DefaultWait).TotalSeconds} s: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    /// <summary>As <see cref="EventuallyAsync{T}"/>, for a JSON answer.</summary>
    public static async Task<JsonElement> EventuallyJsonAsync(Func<CancellationToken, Task<JsonElement?>> probe, string what, TimeSpan? timeout = null)
        => (await EventuallyAsync<object>(async ct => await probe(ct) is { } found ? found : null, what, timeout).ConfigureAwait(false)) is JsonElement e
            ? e : throw new InvalidOperationException("unreachable");

    /// <summary>Waits until the query finds at least <paramref name="count"/> events.</summary>
    public Task<IReadOnlyList<JsonElement>> WaitForEventsAsync(string query, int count = 1, TimeSpan? timeout = null) =>
        EventuallyAsync<IReadOnlyList<JsonElement>>(async ct =>
        {
            var items = await SearchAsync(query, ct);
            return items.Count >= count ? items : null;
        }, $"{count} event(s) for '{query}'", timeout);

    private Dictionary<string, string> Common() => new()
    {
        ["Bonnie__DataDirectory"] = DataDirectory,
        ["Bonnie__Store__Directory"] = Path.Combine(DataDirectory, "store"),
        ["Bonnie__Broker__QueueDirectory"] = Path.Combine(DataDirectory, "broker"),
        ["Bonnie__Broker__ClientEndpoint"] = ClientEndpoint,
        ["Bonnie__Broker__WorkerEndpoint"] = $"tcp://127.0.0.1:{_workerPort}",
        ["Bonnie__Broker__ControllerEndpoint"] = $"tcp://127.0.0.1:{_controllerPort}",
        ["Bonnie__Broker__CollectorEndpoint"] = $"tcp://127.0.0.1:{_collectorPort}",
        ["Bonnie__Broker__HeartbeatInterval"] = "00:00:00.250",
        ["Bonnie__Worker__WorkerEndpoint"] = $"tcp://127.0.0.1:{_workerPort}",
        ["Bonnie__Worker__ControllerEndpoint"] = $"tcp://127.0.0.1:{_controllerPort}",
        ["Bonnie__Worker__HeartbeatInterval"] = "00:00:00.250",
        ["Bonnie__Payloads__SpoolPartitions__0"] = "/var/spool/cyrus/mail",
        ["Bonnie__Payloads__MaxAttempts"] = "3",
        ["Bonnie__Payloads__RetryAfter"] = "00:00:01",
    };

    private string DealerConfig() => string.Join('\n',
        $"broker = {ClientEndpoint}",
        "timeout_ms = 300",
        $"spool = {DealerSpool}",
        "drain_max_events = 50",
        "drain_budget_ms = 200",
        "");

    internal static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
