using System.Reflection;
using System.Runtime.ExceptionServices;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using SearchPage = Bonnie.Web.Components.Pages.Search;

namespace Bonnie.Web.Tests.Items;

/// <summary>
/// The search page shows a query's rows and total first and its counts by type, user, folder and day when they are made:
/// over a million events a broad query's rows took 45 ms and its counts 2.3 s more, and counts that ran past the store's
/// time limit left the officer with no rows at all.
/// </summary>
public sealed class SearchFacetsTests
{
    private static IRenderedComponent<SearchPage> Searched(PageTestContext context, string query)
    {
        var page = context.Render<SearchPage>();
        page.Find("#search-query").Input(query);
        page.Find("form[role=search]").Submit();
        return page;
    }

    private static int Rows(IRenderedComponent<SearchPage> page) => page.FindAll("tbody tr.mud-table-row").Count;

    private static bool HasFacets(IRenderedComponent<SearchPage> page) => page.FindAll("[role=region][aria-label=Facets]").Count > 0;

    [Fact]
    public async Task Search_CountsNotMadeYet_RowsAndTotalShownWithProgress_CountsAppearWhenMade()
    {
        var counts = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(FacetGate.Over(c.Store.Store, _ => counts.Task).Store));

        var page = Searched(context, "event:MessageNew");

        page.WaitForAssertion(() =>
        {
            Assert.True(Rows(page) > 0, "no rows while the counts were being made");
            Assert.Contains("event", page.Find(".bonnie-total").TextContent, StringComparison.Ordinal);
            Assert.Contains("by type, user, folder and day", page.Find(".bonnie-facets-counting").TextContent, StringComparison.Ordinal);
            Assert.False(HasFacets(page));
        }, PageTestContext.Timeout);

        counts.SetResult();

        page.WaitForAssertion(() =>
        {
            Assert.True(HasFacets(page));
            Assert.Contains("MessageNew", page.Find("[role=group][aria-label='Event type']").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Search_CountsStoppedByTheStoresTimeLimit_RowsStay_TheOfficerIsToldWhy()
    {
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton<IBonnieStore>(FacetGate.Over(c.Store.Store,
                _ => Task.FromException(new QuerySyntaxException("The search was stopped after 30 s: it asks for more than the store can count in that time.", 0, "a narrower query"))).Store));

        var page = Searched(context, "event:MessageNew");

        page.WaitForAssertion(() =>
        {
            Assert.Contains("stopped after 30 s", page.Find(".bonnie-facets-error").TextContent, StringComparison.Ordinal);
            Assert.True(Rows(page) > 0);
            Assert.False(HasFacets(page));
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
            // The query itself is not in error: no caret, no error under the box.
            Assert.Empty(page.FindAll(".bonnie-query-caret"));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Search_AnotherQueryBeforeTheFirstsCountsCame_OnlyTheSecondsCountsAreShown()
    {
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FacetGate? gate = null;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton((gate = FacetGate.Over(c.Store.Store, s => s.Query.Root is EventTypeNode { Type: Bonnie.Shared.Events.EventType.MessageNew } ? first.Task : Task.CompletedTask)).Store));
        var page = Searched(context, "event:MessageNew");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll(".bonnie-facets-counting")), PageTestContext.Timeout);

        page.Find("#search-query").Input("event:Login");
        page.Find("form[role=search]").Submit();
        page.WaitForAssertion(() => Assert.Contains("Login", page.Find("[role=group][aria-label='Event type']").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        first.SetResult();

        // The first query's counts, made late, would say MessageNew under a search for logins: once the store answered
        // them and the page had its turn, they are not there.
        page.WaitForState(() => gate!.Answered == 2, PageTestContext.Timeout);
        await context.Context.Renderer.Dispatcher.InvokeAsync(() => { });
        page.WaitForAssertion(() =>
        {
            Assert.DoesNotContain("MessageNew", page.Find("[role=group][aria-label='Event type']").TextContent, StringComparison.Ordinal);
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
    }

    /// <summary>The real store, with each search that asks for counts held until <c>gate</c> says go (or fails).</summary>
    public class FacetGate : DispatchProxy
    {
        private IBonnieStore _inner = default!;
        private Func<EventSearch, Task> _gate = default!;

        private int _answered;

        /// <summary>This proxy as the store the page is given.</summary>
        public IBonnieStore Store => (IBonnieStore)(object)this;

        /// <summary>Searches with counts the store has answered.</summary>
        public int Answered => Volatile.Read(ref _answered);

        public static FacetGate Over(IBonnieStore inner, Func<EventSearch, Task> gate)
        {
            var proxy = Create<IBonnieStore, FacetGate>();
            var self = (FacetGate)(object)proxy;
            (self._inner, self._gate) = (inner, gate);
            return self;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IBonnieStore.SearchEventsAsync) && args![0] is EventSearch { Facets: not Facets.None } search)
            {
                return GatedAsync(search, (CancellationToken)args[1]!);
            }
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e)
            {
                ExceptionDispatchInfo.Throw(e.InnerException!);
                throw;
            }
        }

        private async Task<EventPage> GatedAsync(EventSearch search, CancellationToken cancellationToken)
        {
            await _gate(search);
            // Answered even when the page has given up on it meanwhile, as a store that already counted may: the page
            // itself must drop counts that are no longer its query's.
            _ = cancellationToken;
            var page = await _inner.SearchEventsAsync(search, CancellationToken.None);
            Interlocked.Increment(ref _answered);
            return page;
        }
    }
}
