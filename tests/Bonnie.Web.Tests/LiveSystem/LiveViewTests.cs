using Bonnie.Pipeline.Broker;
using Bonnie.Web.LiveSystem;

namespace Bonnie.Web.Tests.LiveSystem;

public sealed class LiveViewTests
{
    [Fact]
    public void From_AnHourOfHistory_AveragesEachMinuteAndKeepsTheLastFiveMinutesBySecond()
    {
        var history = new int[3600];
        history[0] = 120;     // the oldest minute: 120 events in its first second
        history[3599] = 7;    // the second now ending
        history[3300] = 3;    // the first second of the five-minute window

        var view = LiveView.From(new BrokerSnapshot { DoneHistory = history }, brokerInProcess: true);

        Assert.Equal(60, view.HourPerMinute.Length);
        Assert.Equal(2.0, view.HourPerMinute[0]);
        Assert.Equal(Math.Round(7 / 60.0, 2), view.HourPerMinute[59]);
        Assert.Equal(300, view.RecentPerSecond.Length);
        Assert.Equal(3, view.RecentPerSecond[0]);
        Assert.Equal(7, view.RecentPerSecond[299]);
        Assert.Equal(130, view.DoneLastHour);
        Assert.Equal(120, view.PeakPerSecond);
    }

    [Fact]
    public void From_ShortHistory_IsTheMostRecentSeconds()
    {
        var view = LiveView.From(new BrokerSnapshot { DoneHistory = [4, 5] }, brokerInProcess: true);

        Assert.Equal([0, 4, 5], view.RecentPerSecond[^3..]);
        Assert.Equal(9, view.DoneLastHour);
    }

    [Fact]
    public void From_Jobs_OutstandingExcludesDoneAndFailed()
    {
        var view = LiveView.From(new BrokerSnapshot
        {
            Jobs = new Dictionary<JobState, long> { [JobState.Pending] = 5, [JobState.Postponed] = 2, [JobState.Done] = 100, [JobState.Failed] = 3 },
        }, brokerInProcess: true);

        Assert.Equal(7, view.Outstanding);
        Assert.Equal(3, view.FailedCount);
        Assert.Equal(LiveView.StateOrder, view.Queue.Select(q => q.State));
        Assert.False(view.Reported);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.3, 1)]
    [InlineData(19, 5)]
    [InlineData(100, 50)]
    [InlineData(1_000, 500)]
    [InlineData(12_000, 5_000)]
    public void TickStep_Peak_GivesTwoToFourGridlines(double peak, int expected) =>
        Assert.Equal(expected, LiveView.TickStep([0, peak]));
}
