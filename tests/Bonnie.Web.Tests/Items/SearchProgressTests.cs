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
/// The search page while the store takes its time. It shows a query's rows and total first and its counts by type,
/// user, folder and day when they are made: over a million events a broad query's rows took 45 ms and its counts 2.3 s
/// more, and counts that ran past the store's time limit left the officer with no rows at all. It says what it is
/// searching for while the last query's rows are still shown (a review read them for the new query's for 3.4 s).
/// </summary>
public sealed class SearchProgressTests
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
            services.AddSingleton(HeldStore.Over(c.Store.Store, s => s.Facets != Facets.None ? counts.Task : null).Store));

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
            services.AddSingleton(HeldStore.Over(c.Store.Store, s => s.Facets != Facets.None ? Task.FromException(StoppedByTheTimeLimit()) : null).Store));

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
        HeldStore? gate = null;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton((gate = HeldStore.Over(c.Store.Store,
                s => s.Facets == Facets.None ? null : s.Query.Root is EventTypeNode { Type: Bonnie.Shared.Events.EventType.MessageNew } ? first.Task : Task.CompletedTask)).Store));
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

    private static bool IsLogins(EventSearch s) => s.Query.Root is EventTypeNode { Type: Bonnie.Shared.Events.EventType.Login };

    private static void Submit(IRenderedComponent<SearchPage> page, string query)
    {
        page.Find("#search-query").Input(query);
        page.Find("form[role=search]").Submit();
    }

    [Fact]
    public async Task Search_AnotherQueryWhileTheStoreIsStillAtIt_SaysWhatItSearchesFor_AndWhoseRowsAreShown()
    {
        var logins = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(HeldStore.Over(c.Store.Store, s => s.Facets == Facets.None && IsLogins(s) ? logins.Task : null).Store));
        var page = Searched(context, "event:MessageNew");
        page.WaitForAssertion(() => Assert.True(Rows(page) > 0 && HasFacets(page)), PageTestContext.Timeout);

        Submit(page, "event:Login");

        page.WaitForAssertion(() =>
        {
            // The last query's chips cannot be clicked meanwhile: one would add its value to the query on its way.
            var chips = page.FindAll("[role=region][aria-label=Facets] .mud-chip");
            Assert.NotEmpty(chips);
            Assert.All(chips, chip => Assert.Contains("mud-disabled", chip.ClassName, StringComparison.Ordinal));
            var status = page.Find(".bonnie-searching").TextContent;
            Assert.Contains("Searching for “event:Login”", status, StringComparison.Ordinal);
            Assert.Contains("still those of “event:MessageNew”", status, StringComparison.Ordinal);
            Assert.All(page.FindAll("tbody tr.mud-table-row"), row => Assert.Contains("MessageNew", row.TextContent, StringComparison.Ordinal));
        }, PageTestContext.Timeout);

        logins.SetResult();

        page.WaitForAssertion(() =>
        {
            Assert.Empty(page.FindAll(".bonnie-searching"));
            Assert.All(page.FindAll("tbody tr.mud-table-row"), row => Assert.Contains("Login", row.TextContent, StringComparison.Ordinal));
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Search_EnterPressedAgainWhileTheSameQueryIsOnItsWay_OneSearch_OneAuditRecord()
    {
        var logins = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pagesAsked = 0;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(HeldStore.Over(c.Store.Store, s =>
            {
                if (s.Facets != Facets.None || !IsLogins(s))
                {
                    return null;
                }
                Interlocked.Increment(ref pagesAsked);
                asked.TrySetResult();
                return logins.Task;
            }).Store));
        var page = context.Render<SearchPage>();

        Submit(page, "event:Login");
        // The store is asked from a thread of the pool, after the page last rendered: waited for as such, not by render.
        await asked.Task.WaitAsync(PageTestContext.Timeout);
        page.Find("form[role=search]").Submit();
        page.Find("form[role=search]").Submit();
        logins.SetResult();

        page.WaitForAssertion(() => Assert.True(Rows(page) > 0), PageTestContext.Timeout);
        Assert.Equal(1, Volatile.Read(ref pagesAsked));
        Assert.Single(await context.AuditRecordsAsync(), r => r.Action == Bonnie.Web.Audit.OfficerActions.Search);
    }

    [Fact]
    public async Task Search_StoreStopsTheSearchAtItsTimeLimit_SaidUnderTheBoxWithoutACaret_ThePageLives()
    {
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(HeldStore.Over(c.Store.Store, s => IsLogins(s) ? Task.FromException(StoppedByTheTimeLimit()) : null).Store));
        var page = context.Render<SearchPage>();

        Submit(page, "event:Login");

        page.WaitForAssertion(() => Assert.Contains("stopped after 30 s", page.Find(".bonnie-query-error").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        // The store's limit, not a place in the query: no caret under its first character.
        Assert.Empty(page.FindAll(".bonnie-query-caret"));
        Submit(page, "event:MessageNew");
        page.WaitForAssertion(() =>
        {
            Assert.Empty(page.FindAll(".bonnie-query-error"));
            Assert.True(Rows(page) > 0);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task Search_StoreStopsAQueryTypedOverAnother_RunAndAuditedOnce_NoCountingLeftSpinning()
    {
        // A review: the address that followed the stopped query ran it a second time (twice the wait, two audit records),
        // and the last query's counts, given up, left "Counting…" spinning over its rows.
        var newCounts = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loginPages = 0;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(HeldStore.Over(c.Store.Store, s =>
            {
                if (IsLogins(s) && s.Facets == Facets.None)
                {
                    Interlocked.Increment(ref loginPages);
                    return Task.FromException(StoppedByTheTimeLimit());
                }
                return s.Facets != Facets.None && !IsLogins(s) ? newCounts.Task : null;
            }).Store));
        var nav = context.Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        var page = Searched(context, "event:MessageNew");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll(".bonnie-facets-counting")), PageTestContext.Timeout);

        Submit(page, "event:Login");

        page.WaitForAssertion(() =>
        {
            Assert.Contains("stopped after 30 s", page.Find(".bonnie-query-error").TextContent, StringComparison.Ordinal);
            Assert.Contains("q=event%3ALogin", nav.Uri, StringComparison.Ordinal);
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);
        await context.Context.Renderer.Dispatcher.InvokeAsync(() => { });
        Assert.Equal(1, Volatile.Read(ref loginPages));
        Assert.Single(await context.AuditRecordsAsync(), r => r.Action == Bonnie.Web.Audit.OfficerActions.Search && r.Target == "event:Login");
        newCounts.SetResult();
    }

    [Fact]
    public async Task Search_AnotherQueryWhileThePageAfterIsLoading_ThatPageNeverReplacesTheNewRowsNorTheAddress()
    {
        // A review: page 2 of the last query, loaded late, overwrote the new query's rows, and its address ran the last
        // query again.
        var pageTwo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        HeldStore? store = null;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton((store = HeldStore.Over(c.Store.Store, s => s.Cursor is not null ? pageTwo.Task : null)).Store));
        await context.Store.ProcessAsync(Enumerable.Range(0, 60)
            .Select(i => TestStore.Session("Login", $"paging-session-{i:D2}", new DateTimeOffset(2026, 11, 29, 11, 30, 0, TimeSpan.Zero).AddSeconds(i))).ToArray());
        var nav = context.Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        var page = Searched(context, "session:paging-session-*");
        page.WaitForAssertion(() =>
        {
            Assert.Equal(50, Rows(page));
            Assert.Empty(page.FindAll(".bonnie-facets-counting"));
        }, PageTestContext.Timeout);

        page.Find("button:contains('Next page')").Click();
        Submit(page, "event:MessageNew");
        page.WaitForAssertion(() =>
            Assert.All(page.FindAll("tbody tr.mud-table-row"), row => Assert.Contains("MessageNew", row.TextContent, StringComparison.Ordinal)),
            PageTestContext.Timeout);
        pageTwo.SetResult();
        page.WaitForState(() => store!.Answered == 1, PageTestContext.Timeout);
        await context.Context.Renderer.Dispatcher.InvokeAsync(() => { });

        page.WaitForAssertion(() =>
        {
            Assert.NotEmpty(page.FindAll("tbody tr.mud-table-row"));
            Assert.All(page.FindAll("tbody tr.mud-table-row"), row => Assert.Contains("MessageNew", row.TextContent, StringComparison.Ordinal));
            Assert.Contains("q=event%3AMessageNew", nav.Uri, StringComparison.Ordinal);
            Assert.DoesNotContain("&at=", nav.Uri, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    private static QuerySyntaxException StoppedByTheTimeLimit() =>
        new("The search was stopped after 30 s: it asks for more than the store can count in that time.", 0, "a narrower query");

    /// <summary>
    /// The real store, with each search that <c>hold</c> gives a task for held until that task ends (or failed with its
    /// exception); the others go through at once.
    /// </summary>
    public class HeldStore : DispatchProxy
    {
        private IBonnieStore _inner = default!;
        private Func<EventSearch, Task?> _hold = default!;
        private int _answered;

        /// <summary>This proxy as the store the page is given.</summary>
        public IBonnieStore Store => (IBonnieStore)(object)this;

        /// <summary>Held searches the store has answered.</summary>
        public int Answered => Volatile.Read(ref _answered);

        /// <summary>Searches asked for, held or not.</summary>
        public int Searches => Volatile.Read(ref _searches);

        private int _searches;

        public static HeldStore Over(IBonnieStore inner, Func<EventSearch, Task?> hold)
        {
            var proxy = Create<IBonnieStore, HeldStore>();
            var self = (HeldStore)(object)proxy;
            (self._inner, self._hold) = (inner, hold);
            return self;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IBonnieStore.SearchEventsAsync) && args![0] is EventSearch search)
            {
                Interlocked.Increment(ref _searches);
                if (_hold(search) is { } held)
                {
                    return HeldAsync(held, search);
                }
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

        private async Task<EventPage> HeldAsync(Task held, EventSearch search)
        {
            await held;
            // Answered even when the page has given up on it meanwhile, as a store that already counted may: the page
            // itself must drop results that are no longer its query's.
            var page = await _inner.SearchEventsAsync(search, CancellationToken.None);
            Interlocked.Increment(ref _answered);
            return page;
        }
    }
}
