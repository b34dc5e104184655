using System.Globalization;
using Bonnie.Pipeline.Broker;
using Bonnie.Web.LiveSystem;
using Bonnie.Web.Officers;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;

namespace Bonnie.Web.Components.Pages;

/// <summary>
/// The broker as it is now: queue depth, throughput, workers, failed jobs, and an hour of processed events. The
/// broker publishes from its own thread about once a second (more during bursts); renders are throttled to one
/// a second so that a busy broker does not flood the circuit.
/// </summary>
public sealed partial class Live : IDisposable
{
    internal const int FailedLimit = 200;
    private static readonly TimeSpan MinRenderInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FailedRefreshInterval = TimeSpan.FromSeconds(30);
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    private readonly CancellationTokenSource _closing = new();
    private LineChartOptions _hourOptions = ChartOptionsFor(1);
    private LineChartOptions _recentOptions = ChartOptionsFor(1);
    private LiveView _view = new();
    private List<ChartSeries<double>> _hourSeries = [];
    private List<ChartSeries<double>> _recentSeries = [];
    private IReadOnlyList<BrokerControl.FailedJob> _failed = [];
    private long _failedShownFor = -1;
    private DateTimeOffset _failedLoadedAt;
    private bool _mayRetry;
    private bool _retrying;
    private int _renderScheduled;
    private long _lastRenderTicks;

    [Inject] private BrokerMonitor Monitor { get; set; } = default!;
    [Inject] private IFailedJobQueue FailedJobs { get; set; } = default!;
    [Inject] private FailedJobRetry Retry { get; set; } = default!;
    [Inject] private OfficerCircuit Circuit { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private ILogger<Live> Logger { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        // Subscribed before the first read, so no snapshot falls in between; both before the first await, so the first
        // render shows the snapshot current then (a test on a loaded machine saw the subscription come after its
        // clock had moved, when the authorization check finished late).
        Monitor.Changed += OnChanged;
        Apply(Monitor.Current);
        _mayRetry = await Retry.MayRetryAsync((await AuthenticationState).User);
    }

    internal void OnChanged(BrokerSnapshot snapshot)
    {
        // A pool thread. The render comes up to a second later, so it shows the snapshot current then, not this one.
        if (Interlocked.Exchange(ref _renderScheduled, 1) == 0)
        {
            // Off the broker's thread: its synchronization context (the NetMQ poller) must not run our continuations,
            // and it is gone once the broker stops.
            CancellationToken closing;
            try
            {
                closing = _closing.Token;
            }
            catch (ObjectDisposedException)
            {
                // A callback queued before the page closed and run after: unsubscribing does not recall it. Nothing to
                // show it to; an exception here, on a pool thread, would end the whole process.
                return;
            }
            // The wait starts now, when the snapshot arrives, not when a pool thread gets to it: a clock that moves
            // on in between (a test's fake clock, a busy machine) would otherwise add to it.
            var wait = new DateTimeOffset(Interlocked.Read(ref _lastRenderTicks), TimeSpan.Zero) + MinRenderInterval - Clock.GetUtcNow();
            var turn = wait > TimeSpan.Zero ? Task.Delay(wait, Clock, closing) : Task.CompletedTask;
            // Supervised: RenderSoonAsync hands any failure to the circuit (DispatchExceptionAsync).
            _ = Task.Run(() => RenderSoonAsync(turn, closing), CancellationToken.None);
        }
    }

    private async Task RenderSoonAsync(Task turn, CancellationToken cancellationToken)
    {
        try
        {
            await turn;
            await InvokeAsync(() =>
            {
                // Cleared before reading, so a snapshot published during this render schedules the next one.
                Interlocked.Exchange(ref _renderScheduled, 0);
                Apply(Monitor.Current);
                StateHasChanged();
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page closed while waiting for its turn.
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The circuit went away between the snapshot and the render: nothing left to show it to.
            Logger.LogDebug(e, "Broker snapshot arrived after the live view was closed");
        }
        catch (Exception e)
        {
            // As if the render had thrown: the circuit's error handling shows it and logs it.
            await DispatchExceptionAsync(e);
        }
    }

    private void Apply(BrokerSnapshot snapshot)
    {
        Interlocked.Exchange(ref _lastRenderTicks, Clock.GetUtcNow().UtcTicks);
        _view = LiveView.From(snapshot, FailedJobs.Available);
        _hourSeries = [new ChartSeries<double> { Name = "Events / s (minute average)", Data = _view.HourPerMinute }];
        _recentSeries = [new ChartSeries<double> { Name = "Events / s", Data = _view.RecentPerSecond }];
        _hourOptions = ChartOptionsFor(LiveView.TickStep(_view.HourPerMinute), _hourOptions);
        _recentOptions = ChartOptionsFor(LiveView.TickStep(_view.RecentPerSecond), _recentOptions);
        // Reading the failed jobs touches the queue's database: when their number changed, and now and then in case
        // a failure and a retry elsewhere left the number as it was.
        var now = Clock.GetUtcNow();
        if (_view.FailedCount != _failedShownFor || now - _failedLoadedAt >= FailedRefreshInterval)
        {
            LoadFailed();
        }
    }

    private void LoadFailed()
    {
        _failed = FailedJobs.List(FailedLimit);
        _failedShownFor = _view.FailedCount;
        _failedLoadedAt = Clock.GetUtcNow();
    }

    /// <summary>The Retry button's handler; refuses, on the server, an officer who may not retry.</summary>
    internal async Task RetryAsync(BrokerControl.FailedJob job)
    {
        var officer = (await AuthenticationState).User;
        if (!await Retry.MayRetryAsync(officer))
        {
            // Only a forged event reaches this: the button is not rendered. Record the attempt all the same.
            var refused = await Retry.RetryAsync(officer, job.Id, Circuit.ClientAddress, _closing.Token);
            Snackbar.Add(Message(refused, job), Severity.Error);
            return;
        }
        var confirmed = await Dialogs.ShowMessageBoxAsync(
            "Retry failed job?",
            $"Job {ShortId(job.Id)} on lane {job.Lane} goes back to the queue and a worker tries it again. Its failure reason is cleared. The retry is recorded in the officers' audit log.",
            yesText: "Retry", cancelText: "Cancel");
        if (confirmed != true)
        {
            return;
        }
        _retrying = true;
        try
        {
            var outcome = await Retry.RetryAsync(officer, job.Id, Circuit.ClientAddress, _closing.Token);
            Snackbar.Add(Message(outcome, job), outcome == RetryOutcome.Retried ? Severity.Success : Severity.Warning);
            LoadFailed();
            // The snapshot's count predates the retry: read the list again with the next snapshot, whatever its count
            // (the job may fail again before a snapshot shows it gone).
            _failedShownFor = -1;
        }
        finally
        {
            _retrying = false;
        }
    }

    private static string Message(RetryOutcome outcome, BrokerControl.FailedJob job) => outcome switch
    {
        RetryOutcome.Retried => $"Job {ShortId(job.Id)} is back in the queue.",
        RetryOutcome.NotFailed => $"Job {ShortId(job.Id)} is no longer failed: it was retried already or purged.",
        RetryOutcome.Refused => "Only an Administrator may retry failed jobs.",
        RetryOutcome.NoBroker => "The broker does not run in this process.",
        _ => outcome.ToString(),
    };

    private static LineChartOptions ChartOptionsFor(int tickStep, LineChartOptions? current = null) =>
        current?.YAxisTicks == tickStep
            ? current
            : new() { ShowLegend = false, YAxisRequireZeroPoint = true, ShowDataMarkers = false, YAxisTitle = "events / s", YAxisTicks = tickStep };

    private static string ShortId(string id) => id.Length > 12 ? id[..12] : id;

    private static string Number(long n) => n.ToString("N0", Culture);

    private static string Rate(double perSecond) => perSecond.ToString("N1", Culture);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Culture);

    /// <summary>"last 7 days", "last 12 hours": how far back the queue's DONE count reaches.</summary>
    internal static string Retention(TimeSpan retention)
    {
        var (count, unit) = retention.Ticks % TimeSpan.TicksPerDay == 0
            ? ((long)retention.TotalDays, "day")
            : (Math.Max(1, (long)Math.Round(retention.TotalHours)), "hour");
        return count == 1 ? $"last {unit}" : string.Create(CultureInfo.InvariantCulture, $"last {count:N0} {unit}s");
    }

    private static string CardClass(QueueCount state) => state switch
    {
        { State: JobState.Failed, Count: > 0 } => "bonnie-live-card bonnie-live-card-failed",
        _ => "bonnie-live-card",
    };

    private static Color WorkerColor(WorkerState state) => state switch
    {
        WorkerState.Ready => Color.Success,
        WorkerState.Busy => Color.Info,
        _ => Color.Warning,
    };

    public void Dispose()
    {
        Monitor.Changed -= OnChanged;
        _closing.Cancel();
        _closing.Dispose();
    }
}
