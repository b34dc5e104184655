using System.Globalization;
using Bonnie.Pipeline.Broker;

namespace Bonnie.Web.LiveSystem;

/// <summary>What the live system view shows, computed once per render from the broker's latest snapshot.</summary>
internal sealed record LiveView
{
    /// <summary>Seconds in the broker's history (one hour) and in the short per-second window.</summary>
    public const int HistorySeconds = 3600;
    public const int RecentSeconds = 300;

    /// <summary>The states in the order a person reads a queue: waiting, working, waiting again, ended.</summary>
    public static IReadOnlyList<JobState> StateOrder { get; } =
        [JobState.Pending, JobState.Assigned, JobState.Collecting, JobState.Postponed, JobState.Failed, JobState.Done];

    /// <summary>The broker runs in this process (it may not have reported yet).</summary>
    public bool BrokerInProcess { get; init; }

    /// <summary>The broker has published at least one snapshot.</summary>
    public bool Reported { get; init; }

    public DateTimeOffset At { get; init; }
    public string? Fault { get; init; }
    public IReadOnlyList<QueueCount> Queue { get; init; } = [];

    /// <summary>How far back the DONE count reaches: the queue keeps done jobs this long (the store keeps their events).</summary>
    public TimeSpan DoneRetention { get; init; }

    /// <summary>Jobs that still need work: neither done nor failed.</summary>
    public long Outstanding { get; init; }

    public IReadOnlyList<WorkerSnapshot> Workers { get; init; } = [];
    public int Collectors { get; init; }
    public double SubmittedPerSecond { get; init; }
    public double DonePerSecond { get; init; }
    public long Submitted { get; init; }
    public long Duplicates { get; init; }
    public long Refused { get; init; }
    public long FailedCount { get; init; }

    /// <summary>Average events processed per second in each of the last 60 minutes, oldest first.</summary>
    public double[] HourPerMinute { get; init; } = new double[60];

    /// <summary>Events processed in each of the last 300 seconds, oldest first.</summary>
    public double[] RecentPerSecond { get; init; } = new double[RecentSeconds];

    public long DoneLastHour { get; init; }
    public int PeakPerSecond { get; init; }

    public static LiveView From(BrokerSnapshot snapshot, bool brokerInProcess)
    {
        var history = Pad(snapshot.DoneHistory);
        var hour = new double[60];
        for (var minute = 0; minute < 60; minute++)
        {
            var sum = 0;
            for (var s = minute * 60; s < (minute + 1) * 60; s++)
            {
                sum += history[s];
            }
            hour[minute] = Math.Round(sum / 60.0, 2);
        }
        var recent = new double[RecentSeconds];
        for (var i = 0; i < RecentSeconds; i++)
        {
            recent[i] = history[HistorySeconds - RecentSeconds + i];
        }
        var jobs = snapshot.Jobs;
        long Count(JobState state) => jobs.TryGetValue(state, out var n) ? n : 0;
        return new LiveView
        {
            BrokerInProcess = brokerInProcess,
            Reported = snapshot.At != default,
            At = snapshot.At,
            Fault = snapshot.Fault,
            Queue = [.. StateOrder.Select(s => new QueueCount(s, Count(s)))],
            DoneRetention = snapshot.DoneRetention,
            Outstanding = StateOrder.Where(s => s is not (JobState.Done or JobState.Failed)).Sum(Count),
            Workers = [.. snapshot.Workers.OrderBy(w => w.Id, StringComparer.Ordinal)],
            Collectors = snapshot.Collectors,
            SubmittedPerSecond = snapshot.SubmittedPerSecond,
            DonePerSecond = snapshot.DonePerSecond,
            Submitted = snapshot.Submitted,
            Duplicates = snapshot.Duplicates,
            Refused = snapshot.Refused,
            FailedCount = Count(JobState.Failed),
            HourPerMinute = hour,
            RecentPerSecond = recent,
            DoneLastHour = history.Sum(n => (long)n),
            PeakPerSecond = history.Max(),
        };
    }

    /// <summary>
    /// A y-axis step that gives two to four gridlines whatever the load: 1, 2 or 5 times a power of ten (the chart's
    /// own default, 20, would flatten a quiet hour onto the axis).
    /// </summary>
    public static int TickStep(IEnumerable<double> values)
    {
        var max = values.DefaultIfEmpty(0).Max();
        var rough = Math.Max(1, max / 4);
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var normalized = rough / magnitude;
        var nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
        return (int)Math.Min(int.MaxValue, Math.Max(1, nice * magnitude));
    }

    /// <summary>Labels every ten minutes on the hour chart, so that sixty points stay readable.</summary>
    public static string[] HourLabels { get; } = [.. Enumerable.Range(0, 60).Select(i =>
        i == 59 ? "now" : i % 10 == 0 ? $"-{(60 - i).ToString(CultureInfo.InvariantCulture)} min" : "")];

    /// <summary>Labels every minute on the five-minute chart.</summary>
    public static string[] RecentLabels { get; } = [.. Enumerable.Range(0, RecentSeconds).Select(i =>
        i == RecentSeconds - 1 ? "now" : i % 60 == 0 ? $"-{((RecentSeconds - i) / 60).ToString(CultureInfo.InvariantCulture)} min" : "")];

    /// <summary>The broker keeps exactly an hour; a shorter history (a fresh or test broker) is padded with quiet seconds.</summary>
    private static int[] Pad(IReadOnlyList<int> history)
    {
        var padded = new int[HistorySeconds];
        var take = Math.Min(history.Count, HistorySeconds);
        for (var i = 0; i < take; i++)
        {
            padded[HistorySeconds - take + i] = history[history.Count - take + i];
        }
        return padded;
    }
}

internal sealed record QueueCount(JobState State, long Count)
{
    public string Name => State.ToString();
}
