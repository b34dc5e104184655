using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Bonnie.EndToEnd.Tests.Pipeline;

/// <summary>
/// Bonnie.Web started as its own operating-system process (the built Bonnie.Web.dll, configured by environment
/// variables), so that a test can kill it with SIGKILL as a crash would.
/// </summary>
internal sealed class BonnieProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _readyText;

    private BonnieProcess(IReadOnlyDictionary<string, string> environment, string readyText, string assembly)
    {
        _readyText = readyText;
        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    /// <summary>Starts the process and waits until its log says <paramref name="readyText"/>.</summary>
    public static async Task<BonnieProcess> StartAsync(IReadOnlyDictionary<string, string> environment, string readyText, string? assembly = null)
    {
        var process = new BonnieProcess(environment, readyText, assembly ?? WebAssembly);
        try
        {
            await process._ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new TimeoutException($"{Path.GetFileName(assembly ?? WebAssembly)} did not log '{readyText}' within 60 s. Its output:\n{process.Output}");
        }
        return process;
    }

    /// <summary>bonnie-collector, built beside the tests (a project reference).</summary>
    public static string CollectorAssembly => Path.Combine(AppContext.BaseDirectory, "bonnie-collector.dll");

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        if (line.Contains(_readyText, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>Bonnie.Web.dll as built in the same configuration as these tests.</summary>
    public static string WebAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var path = Path.Combine(RepositoryRoot, "Bonnie.Web", "bin", configuration, "net10.0", "Bonnie.Web.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build Bonnie.Web first ({path} is missing).");
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Bonnie.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new DirectoryNotFoundException("Bonnie.sln not found above the test directory.");
        }
    }

    /// <summary>A loopback port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The ports and data directory of one broker, and the environment that configures processes for it.</summary>
internal sealed class PipelineLayout : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("bonnie-e2e-").FullName;
    public int ClientPort { get; } = BonnieProcess.FreePort();
    public int WorkerPort { get; } = BonnieProcess.FreePort();
    public int ControllerPort { get; } = BonnieProcess.FreePort();
    public int CollectorPort { get; } = BonnieProcess.FreePort();
    public string ClientEndpoint => $"tcp://127.0.0.1:{ClientPort}";

    /// <summary>The broker's journal (its DataDirectory's broker/queue.db).</summary>
    public string QueueFile => Path.Combine(Directory, "broker", "broker", "queue.db");

    public Dictionary<string, string> Broker() => new()
    {
        ["Bonnie__DataDirectory"] = Path.Combine(Directory, "broker"),
        ["Bonnie__Worker__Enabled"] = "false",
        ["Bonnie__Broker__ClientEndpoint"] = ClientEndpoint,
        ["Bonnie__Broker__WorkerEndpoint"] = $"tcp://127.0.0.1:{WorkerPort}",
        ["Bonnie__Broker__ControllerEndpoint"] = $"tcp://127.0.0.1:{ControllerPort}",
        ["Bonnie__Broker__CollectorEndpoint"] = $"tcp://127.0.0.1:{CollectorPort}",
        ["Bonnie__Broker__HeartbeatInterval"] = "00:00:00.250",
    };

    public Dictionary<string, string> Worker(string name, string recordTo, int concurrency = 8, string? delay = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Bonnie__DataDirectory"] = Path.Combine(Directory, name),
            ["Bonnie__Broker__Enabled"] = "false",
            ["Bonnie__Worker__Name"] = name,
            ["Bonnie__Worker__RecordTo"] = recordTo,
            ["Bonnie__Worker__Concurrency"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bonnie__Worker__WorkerEndpoint"] = $"tcp://127.0.0.1:{WorkerPort}",
            ["Bonnie__Worker__ControllerEndpoint"] = $"tcp://127.0.0.1:{ControllerPort}",
            ["Bonnie__Worker__HeartbeatInterval"] = "00:00:00.250",
        };
        if (delay is not null)
        {
            environment["Bonnie__Worker__RecordDelay"] = delay;
        }
        return environment;
    }

    private static bool KeepRuns => Environment.GetEnvironmentVariable("BONNIE_E2E_KEEP") == "1";

    /// <summary>With BONNIE_E2E_KEEP=1, writes a process's log beside the run's data, to read after the run.</summary>
    public void KeepLog(string name, string output)
    {
        if (KeepRuns)
        {
            File.WriteAllText(Path.Combine(Directory, name + ".log"), output);
        }
    }

    public void Dispose()
    {
        // BONNIE_E2E_KEEP=1 keeps the journal, the spools and the records of a run to look at after it.
        if (KeepRuns)
        {
            Console.Error.WriteLine($"Kept {Directory}");
            return;
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
