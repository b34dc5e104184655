using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.Pipeline.Tests.Storage;

/// <summary>A real embedded store in a temporary directory with the real handlers and processor.</summary>
internal sealed class TestPipeline : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private TestPipeline(string directory, IReadOnlyList<IPayloadSource> sources, int maxAttempts, IIdentityEnricher? identity, TimeSpan? retryAfter, bool useCollector)
    {
        Directory = directory;
        Store = new EmbeddedStore(Path.Combine(directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        Payloads = new PayloadDirectory(Path.Combine(directory, "store", "payloads"), compress: true);
        var fetcher = new PayloadFetcher(sources, Payloads, new PayloadOptions { MaxAttempts = maxAttempts, RetryAfter = retryAfter ?? new PayloadOptions().RetryAfter, UseCollector = useCollector }, NullLogger<PayloadFetcher>.Instance);
        Processor = new StoreJobProcessor(Store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, Time,
            NullLogger<StoreJobProcessor>.Instance, identity);
    }

    public string Directory { get; }
    public EmbeddedStore Store { get; }
    public PayloadDirectory Payloads { get; }
    public StoreJobProcessor Processor { get; }
    public FakeTimeProvider Time { get; } = new(Now);

    public static async Task<TestPipeline> CreateAsync(
        IReadOnlyList<IPayloadSource>? sources = null, int maxAttempts = 1, IIdentityEnricher? identity = null, TimeSpan? retryAfter = null,
        bool useCollector = false)
    {
        var dir = Path.Combine(Path.GetTempPath(), "bonnie-store-tests", Guid.NewGuid().ToString("N"));
        var p = new TestPipeline(dir, sources ?? [], maxAttempts, identity, retryAfter, useCollector);
        await p.Store.InitializeAsync();
        return p;
    }

    public static Job JobFor(byte[] bytes, int attempt = 1)
        => new(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, attempt, Now);

    public static Job JobFor(string json, int attempt = 1) => JobFor(Encoding.UTF8.GetBytes(json), attempt);

    public async Task<JobOutcome> RunAsync(string json, int attempt = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await Processor.ProcessAsync(JobFor(json, attempt), timeout.Token);
    }

    public async Task RunAllAsync(params string[] notifications)
    {
        foreach (var n in notifications)
        {
            Assert.IsType<JobOutcome.Done>(await RunAsync(n));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The real Cyrus notifications in tests/TestData/cyrus.</summary>
internal static class Fixture
{
    public static string Load(string relative)
        => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", relative)).TrimEnd('\n');

    public static string Event(string name) => Load(Path.Combine("events", name + ".json"));

    /// <summary>A real notification with some text replaced (another UID, another Message-ID...).</summary>
    public static string Edit(string json, params (string From, string To)[] replacements)
    {
        foreach (var (from, to) in replacements)
        {
            Assert.Contains(from, json, StringComparison.Ordinal);
            json = json.Replace(from, to, StringComparison.Ordinal);
        }
        return json;
    }

    /// <summary>What a change looks like in assertions: <c>Location moved sufr9a0wrxwpaaifzy6ge6cu/2 -> oe16bupldlr2b7ax2w5twkwq/3</c>.</summary>
    public static string Describe(ChangeRecord c)
        => $"{c.Aspect} {c.Key} {c.From ?? "-"} -> {c.To ?? "-"}".Replace("  ", " ", StringComparison.Ordinal);

    /// <summary>
    /// <see cref="Describe"/> with where, who, when and why, as an officer reads a record:
    /// <c>Flag \Seen unset -> set | in user/alice/Archive@example.org uid 1 | by alice@example.org (imap) | at 2026-11-29T11:20:38.1290000+00:00 | event 3f…</c>.
    /// </summary>
    public static string DescribeFully(ChangeRecord c)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Describe(c)} | in {c.FolderName ?? "-"} uid {(c.Uid is { } u ? u.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-")} | by {c.Actor.User ?? "-"} ({c.Actor.Service ?? "-"}) | at {c.At.UtcDateTime:O} | event {c.EventId}");
}
