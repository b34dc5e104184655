using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Restore;

public enum RestoreJobState
{
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>One restore running or finished: its plan, counts so far, and how it ended. Safe to read from any thread.</summary>
public sealed class RestoreJob
{
    private readonly CancellationTokenSource _cancel;
    private RestoreProgress _progress;

    internal RestoreJob(string id, string officer, RestoreRequest request, RestorePlan plan, DateTimeOffset started, CancellationTokenSource cancel)
    {
        Id = id;
        Officer = officer;
        Request = request;
        Plan = plan;
        Started = started;
        _cancel = cancel;
        _progress = new RestoreProgress(plan.Items.Count, 0, 0, 0, 0);
    }

    public string Id { get; }
    public string Officer { get; }
    public RestoreRequest Request { get; }
    public RestorePlan Plan { get; }
    public DateTimeOffset Started { get; }
    public DateTimeOffset? Finished { get; internal set; }
    public RestoreJobState State { get; internal set; } = RestoreJobState.Running;
    public RestoreProgress Progress { get => Volatile.Read(ref _progress); internal set => Volatile.Write(ref _progress, value); }
    public RestoreResult? Result { get; internal set; }
    /// <summary>Why it failed, in words an officer can act on.</summary>
    public string? Error { get; internal set; }
    /// <summary>The typed failure's name (<c>OverQuota</c>, <c>MailboxNotFound</c>, <c>Unavailable</c>) for callers to branch on.</summary>
    public string? ErrorKind { get; internal set; }
    internal Task Completion { get; set; } = Task.CompletedTask;

    private readonly List<RestoredMessage> _restored = [];

    /// <summary>What it put into Cyrus so far, byte-exact, in order.</summary>
    public IReadOnlyList<RestoredMessage> Restored
    {
        get
        {
            lock (_restored)
            {
                return [.. _restored];
            }
        }
    }

    internal void AddRestored(RestoredMessage message)
    {
        lock (_restored)
        {
            _restored.Add(message);
        }
    }

    /// <summary>Raised after every batch and at the end; handlers must not block.</summary>
    public event Action<RestoreJob>? Changed;

    public void Cancel() => _cancel.Cancel();

    internal void RaiseChanged() => Changed?.Invoke(this);

    internal CancellationToken Token => _cancel.Token;
}

/// <summary>
/// Runs restores in the background, one task each, supervised: every ending is recorded on the job and logged.
/// Jobs live in memory (the officers' audit keeps the permanent record) and are forgotten a while after they end.
/// </summary>
public sealed partial class RestoreJobs : IDisposable
{
    private readonly ConcurrentDictionary<string, RestoreJob> _jobs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly RestorePlanner _planner;
    private readonly ImapRestorer _restorer;
    private readonly TimeProvider _time;
    private readonly IOptions<RestoreOptions> _options;
    private readonly ILogger<RestoreJobs> _logger;

    internal RestoreJobs(RestorePlanner planner, ImapRestorer restorer, TimeProvider time, IOptions<RestoreOptions> options,
        ILogger<RestoreJobs> logger, IHostApplicationLifetime? lifetime = null)
    {
        _planner = planner;
        _restorer = restorer;
        _time = time;
        _options = options;
        _logger = logger;
        lifetime?.ApplicationStopping.Register(_stopping.Cancel);
    }

    /// <summary>What the request would restore, from the store only: nothing is sent to Cyrus.</summary>
    public Task<RestorePlan> PlanAsync(RestoreRequest request, CancellationToken cancellationToken = default)
        => _planner.PlanAsync(request, cancellationToken);

    /// <summary>
    /// Starts restoring <paramref name="plan"/> once <paramref name="beforeStart"/> (the audit record) succeeded;
    /// returns at once with the job to follow. <paramref name="afterEnd"/> runs once it ended, however it ended.
    /// </summary>
    public async Task<RestoreJob> StartAsync(string officer, RestoreRequest request, RestorePlan plan, Func<RestoreJob, Task>? beforeStart = null,
        Func<RestoreJob, Task>? afterEnd = null)
    {
        Forget();
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var job = new RestoreJob(Guid.NewGuid().ToString("N"), officer, request, plan, _time.GetUtcNow(), cancel);
        try
        {
            if (beforeStart is not null)
            {
                await beforeStart(job).ConfigureAwait(false);
            }
        }
        catch
        {
            cancel.Dispose();
            throw;
        }
        _jobs[job.Id] = job;
        job.Completion = Task.Run(() => RunAsync(job, cancel, afterEnd));
        return job;
    }

    /// <summary>Waits for a job to end (tests, shutdown); never throws for the job's own failure.</summary>
    public static Task WaitAsync(RestoreJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.Completion.WaitAsync(cancellationToken);
    }

    public RestoreJob? Get(string id) => _jobs.GetValueOrDefault(id);

    public IReadOnlyList<RestoreJob> All => [.. _jobs.Values.OrderByDescending(j => j.Started)];

    private async Task RunAsync(RestoreJob job, CancellationTokenSource cancel, Func<RestoreJob, Task>? afterEnd)
    {
        using var _ = cancel;
        LogStarted(_logger, job.Id, job.Officer, job.Plan.Items.Count);
        try
        {
            var progress = new SynchronousProgress(p =>
            {
                job.Progress = p;
                job.RaiseChanged();
            });
            job.Result = await _restorer.RunAsync(job.Plan, progress, job.AddRestored, job.Token).ConfigureAwait(false);
            job.Progress = job.Result.Progress;
            job.State = RestoreJobState.Completed;
        }
        catch (OperationCanceledException) when (job.Token.IsCancellationRequested)
        {
            job.State = RestoreJobState.Cancelled;
            job.Error = "Cancelled; the messages restored before stay, and running the restore again adds only the rest.";
        }
        catch (RestoreException ex)
        {
            job.State = RestoreJobState.Failed;
            job.Error = ex.Message;
            job.ErrorKind = ex.GetType().Name.Replace("Exception", "", StringComparison.Ordinal);
            LogFailed(_logger, job.Id, ex.GetType().Name, ex.Message);
        }
        catch (Exception ex) when (ex is MailKit.Net.Imap.ImapProtocolException or IOException or System.Net.Sockets.SocketException
            or MailKit.ServiceNotConnectedException)
        {
            // The server went away in the middle (stopped, restarted, the network): the same kind as not reaching it at
            // all, which a client can retry; a review saw it reported as "Unexpected".
            job.State = RestoreJobState.Failed;
            job.Error = $"The IMAP server went away during the restore ({ex.Message}); what was restored stays, and running the restore again adds only the rest.";
            job.ErrorKind = nameof(RestoreUnavailableException).Replace("Exception", "", StringComparison.Ordinal);
            LogFailed(_logger, job.Id, ex.GetType().Name, ex.Message);
        }
        catch (Exception ex)
        {
            job.State = RestoreJobState.Failed;
            job.Error = $"The restore stopped on an unexpected error ({ex.GetType().Name}: {ex.Message}); what was restored stays.";
            job.ErrorKind = "Unexpected";
            LogCrashed(_logger, ex, job.Id);
        }
        job.Finished = _time.GetUtcNow();
        if (afterEnd is not null)
        {
            try
            {
                await afterEnd(job).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // What was restored stays restored; the failure to record it is logged loudly, with the job's counts.
                LogAfterEndFailed(_logger, ex, job.Id, job.Progress.Restored);
            }
        }
        job.RaiseChanged();
        LogEnded(_logger, job.Id, job.State, job.Progress.Restored, job.Progress.AlreadyPresent, job.Progress.Failed);
    }

    private void Forget()
    {
        var horizon = _time.GetUtcNow() - _options.Value.KeepFinishedFor;
        foreach (var (id, job) in _jobs)
        {
            if (job.Finished is { } f && f < horizon)
            {
                _jobs.TryRemove(id, out _);
            }
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    /// <summary>Reports on the restorer's own thread, in order, unlike <see cref="Progress{T}"/>.</summary>
    private sealed class SynchronousProgress(Action<RestoreProgress> report) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => report(value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore {JobId} started by {Officer}: {Count} message(s) planned")]
    private static partial void LogStarted(ILogger logger, string jobId, string officer, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Restore {JobId} failed: {Kind}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string jobId, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Restore {JobId} failed unexpectedly")]
    private static partial void LogCrashed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Restore {JobId} ended with {Restored} message(s) restored, but its ending could not be recorded")]
    private static partial void LogAfterEndFailed(ILogger logger, Exception exception, string jobId, int restored);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore {JobId} ended {State}: {Restored} restored, {Present} already present, {Failed} failed")]
    private static partial void LogEnded(ILogger logger, string jobId, RestoreJobState state, int restored, int present, int failed);
}
