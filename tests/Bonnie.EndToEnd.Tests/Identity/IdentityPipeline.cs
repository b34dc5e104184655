using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>The real processor, handlers and embedded store, resolving against a real slapd on a fake clock.</summary>
internal sealed class IdentityPipeline : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "bonnie-identity-e2e", Guid.NewGuid().ToString("N"));
    private readonly PayloadFetcher _fetcher;

    private IdentityPipeline(IdentityOptions options)
    {
        Store = new EmbeddedStore(Path.Combine(_directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        var payloads = new PayloadDirectory(Path.Combine(_directory, "store", "payloads"), compress: true);
        _fetcher = new PayloadFetcher([], payloads, new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        Enricher = NewEnricher(options);
        Processor = Worker(Enricher);
    }

    private DirectoryIdentityEnricher NewEnricher(IdentityOptions options)
    {
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        var resolver = new DirectoryResolver(wrapped, Clock, NullLogger<DirectoryResolver>.Instance);
        return new DirectoryIdentityEnricher(resolver, Clock, NullLogger<DirectoryIdentityEnricher>.Instance, wrapped);
    }

    private StoreJobProcessor Worker(IIdentityEnricher enricher) =>
        new(Store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], _fetcher, Clock, NullLogger<StoreJobProcessor>.Instance, enricher);

    /// <summary>Another worker on the same store, resolving with its own directory settings (say, one it cannot reach).</summary>
    public StoreJobProcessor OtherWorker(IdentityOptions options) => Worker(NewEnricher(options));

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    public EmbeddedStore Store { get; }
    public DirectoryIdentityEnricher Enricher { get; }
    public StoreJobProcessor Processor { get; }

    public static async Task<IdentityPipeline> CreateAsync(IdentityOptions options)
    {
        var pipeline = new IdentityPipeline(options);
        await pipeline.Store.InitializeAsync();
        return pipeline;
    }

    /// <summary>A real notification with some text replaced, processed as the worker does.</summary>
    public Task StoreAsync(string eventName, params (string From, string To)[] replacements) => StoreAsync(Processor, eventName, replacements);

    /// <summary>As <see cref="StoreAsync(string, ValueTuple{string, string}[])"/>, processed by <paramref name="worker"/>.</summary>
    public async Task StoreAsync(StoreJobProcessor worker, string eventName, params (string From, string To)[] replacements)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", eventName + ".json")).TrimEnd('\n');
        foreach (var (from, to) in replacements)
        {
            Assert.Contains(from, json, StringComparison.Ordinal);
            json = json.Replace(from, to, StringComparison.Ordinal);
        }
        var bytes = Encoding.UTF8.GetBytes(json);
        var job = new Job(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 1, Clock.GetUtcNow());
        Assert.IsType<JobOutcome.Done>(await worker.ProcessAsync(job, cancel.Token));
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>The fake clock, telling each wait asked of it (Task.Delay creates a timer): the re-resolution's backoff.</summary>
internal sealed class RecordingTimeProvider(FakeTimeProvider inner) : TimeProvider
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // The timer exists before anyone hears of the wait, so advancing the clock after hearing of it fires it.
        var timer = inner.CreateTimer(callback, state, dueTime, period);
        _waits.Writer.TryWrite(dueTime);
        return timer;
    }

    public async Task<TimeSpan> NextWaitAsync()
    {
        using var cancel = new CancellationTokenSource(IdentityPipeline.Timeout);
        return await _waits.Reader.ReadAsync(cancel.Token);
    }
}
