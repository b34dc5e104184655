using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace Bonnie.Bench;

/// <summary>
/// Time until the first result page is interactive (issue 7, item 7): fills an embedded store with N realistic
/// notifications (the store bench's generator, through the real processor and handlers), starts the real host
/// (<c>Bonnie.Web.dll</c>) on that data directory, signs in with Debian's chromium and opens
/// <c>/search?q=&lt;query&gt;</c> several times, each in a fresh tab. Measures from navigation start
/// (<c>performance.timeOrigin</c>) to the moment the grid's first row is in the DOM inside the interactive layout
/// (<c>data-interactive="true"</c>). The same measurement on an empty store, in the same run, is the baseline.
/// </summary>
internal static class FirstPageBench
{
    private const string Officer = "bench";
    private const string Password = "bench password of some length";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static int Run(string[] args)
    {
        var events = BenchArgs.Int(args, "--events", 200_000);
        var runs = BenchArgs.Int(args, "--runs", 5);
        var users = BenchArgs.Int(args, "--users", Math.Max(50, events / 1_000));
        var query = BenchArgs.Text(args, "--query") ?? $"user:{NotificationGenerator.UserName(7)}";
        var web = BenchArgs.Text(args, "--web") is { } given ? Path.GetFullPath(given) : FindWebAssembly();
        if (web is null || !File.Exists(web))
        {
            Console.Error.WriteLine("Bonnie.Web.dll not found: build it (dotnet build Bonnie.Web -c Release) or pass --web <path>");
            return 2;
        }
        var root = Directory.CreateTempSubdirectory("bonnie-bench-firstpage-").FullName;
        Console.WriteLine($"first page bench: {events:N0} events, {users:N0} users, query '{query}', {runs} runs each, host {web}");
        try
        {
            var empty = Path.Combine(root, "empty");
            var full = Path.Combine(root, "full");
            var fill = Stopwatch.StartNew();
            var (rate, store) = StoreBench.RunStore(Path.Combine(full, "store"), events, users, batchSize: 5_000);
            store.Dispose();
            SqliteConnection.ClearAllPools();
            Console.WriteLine($"filled {events:N0} events in {fill.Elapsed.TotalSeconds:N0} s ({rate:N0} events/s)");

            var baseline = MeasureAsync(web, empty, query, runs).GetAwaiter().GetResult();
            Report("empty store (baseline)", baseline);
            var loaded = MeasureAsync(web, full, query, runs).GetAwaiter().GetResult();
            Report($"{events:N0} events", loaded);
            Console.WriteLine($"difference of the medians: {Median(loaded.Warm) - Median(baseline.Warm):N0} ms");
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Timings(double First, IReadOnlyList<double> Warm, string Total);

    private static void Report(string what, Timings t) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: first page interactive, median {Median(t.Warm):N0} ms of {t.Warm.Count} runs [{string.Join(", ", t.Warm.Select(w => w.ToString("N0", CultureInfo.InvariantCulture)))}] (first run after host start {t.First:N0} ms); page said '{t.Total}'"));

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<Timings> MeasureAsync(string web, string dataDirectory, string query, int runs)
    {
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        using var host = StartHost(web, dataDirectory, baseUrl);
        try
        {
            await WaitUntilUpAsync(baseUrl, host);
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Timeout = (float)Timeout.TotalMilliseconds,
            });
            await using var context = await browser.NewContextAsync();
            context.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
            await SignInAsync(context, baseUrl);

            var url = baseUrl + "/search?q=" + Uri.EscapeDataString(query);
            var first = 0.0;
            var warm = new List<double>();
            var total = "";
            for (var run = 0; run <= runs; run++)
            {
                var page = await context.NewPageAsync();
                await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
                // A data row (it links to its event) or, on an empty store, the grid's "no event matches" row.
                var row = page.Locator("[data-interactive=true] table[aria-label='Matching events'] tbody tr")
                    .Filter(new LocatorFilterOptions { Has = page.Locator("a[href^='events/']") })
                    .Or(page.Locator("[data-interactive=true] table[aria-label='Matching events'] tbody tr")
                        .Filter(new LocatorFilterOptions { HasText = "No event matches." }));
                await row.First.WaitForAsync();
                var ms = await page.EvaluateAsync<double>("() => performance.now()");
                total = (await page.Locator(".bonnie-total").First.TextContentAsync())?.Trim() ?? "";
                await page.CloseAsync();
                if (run == 0)
                {
                    first = ms;
                }
                else
                {
                    warm.Add(ms);
                }
            }
            return new Timings(first, warm, total);
        }
        finally
        {
            if (!host.HasExited)
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync();
            }
        }
    }

    private static async Task SignInAsync(IBrowserContext context, string baseUrl)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(baseUrl + "/signin");
        await page.GetByLabel("User name").FillAsync(Officer);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.CloseAsync();
    }

    private static Process StartHost(string web, string dataDirectory, string baseUrl)
    {
        var start = new ProcessStartInfo("dotnet", [web])
        {
            WorkingDirectory = Path.GetDirectoryName(web)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = baseUrl;
        start.Environment["Bonnie__DataDirectory"] = dataDirectory;
        start.Environment["Bonnie__Officers__InitialAdministrator__UserName"] = Officer;
        start.Environment["Bonnie__Officers__InitialAdministrator__Password"] = Password;
        // The broker's fixed ports belong to whoever runs Bonnie on this machine; this measures the web over the store.
        start.Environment["Bonnie__Broker__Enabled"] = "false";
        start.Environment["Bonnie__Worker__Enabled"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("the host did not start");
        process.OutputDataReceived += (_, e) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("host: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilUpAsync(string baseUrl, Process host)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Timeout)
        {
            if (host.HasExited)
            {
                throw new InvalidOperationException($"the host exited with {host.ExitCode}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(baseUrl + "/signin"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Starting.
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("the host did not answer within " + Timeout);
    }

    private static string? FindWebAssembly()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Bonnie.Web", "bin", "Release", "net10.0", "Bonnie.Web.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
