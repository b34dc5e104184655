using Bonnie.Shared.Search;
using Bonnie.Web.Search;

namespace Bonnie.Web.Tests.Components;

public sealed class SearchChartTests
{
    [Fact]
    public void ChartDays_DaysWithoutMatchesBetweenThem_FilledWithZero_SoTheAxisIsTime()
    {
        // Found by a UI review: with a bar per day that had matches, 11-29 stood where 11-25 would be.
        IReadOnlyList<FacetCount> days = [new("2026-11-28", 3), new("2026-12-01", 5)];

        var chart = SearchViewModel.WithEmptyDays(days);

        Assert.Equal([("2026-11-28", 3L), ("2026-11-29", 0L), ("2026-11-30", 0L), ("2026-12-01", 5L)], chart.Select(d => (d.Value, d.Count)));
    }

    [Fact]
    public void ChartDays_MoreThanAYearApart_LeftAsTheyAre()
    {
        IReadOnlyList<FacetCount> days = [new("2024-01-01", 1), new("2026-01-01", 1)];

        Assert.Same(days, SearchViewModel.WithEmptyDays(days));
    }
}
