using System.Reflection;
using System.Runtime.ExceptionServices;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Components.Pages;
using MessageHistory = Bonnie.Web.Components.Pages.MessageHistory;
using Bonnie.Web.Tests.Infrastructure;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Items;

/// <summary>
/// The item pages while the store reads a large history. The embedded store reads synchronously: read on the circuit's
/// thread, the page's loading bar never reached the browser and the page took no click until the read was done. Here the
/// store holds its reads the way the embedded store does (the calling thread waits) until the test lets them go.
/// </summary>
public sealed class ItemPagesWhileTheStoreReadsTests
{
    /// <summary>Longer than any page needs; a page that reads on the circuit's thread is stuck at least this long.</summary>
    private static readonly TimeSpan RenderLimit = TimeSpan.FromSeconds(10);

    public static TheoryData<string> Pages => ["user", "folder", "message", "event"];

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task ItemPage_StoreStillReading_PageRendersWithItsLoadingBar_ThenTheItem(string kind)
    {
        using var gate = new ManualResetEventSlim();
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(BlockingStore.Over(c.Store.Store, gate)));
        var anEvent = (await context.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("event:MessageNew"), Limit = 1 })).Items[0];

        var rendering = Task.Run(() => Render(context, kind, anEvent));
        Rendered page;
        try
        {
            var first = await Task.WhenAny(rendering, Task.Delay(RenderLimit));
            Assert.True(first == rendering, $"the {kind} page did not render within {RenderLimit.TotalSeconds} s while the store was reading");
            page = await rendering;
            page.WaitForAssertion(() => Assert.True(page.Count(".mud-progress-linear") > 0, "no loading bar"), PageTestContext.Timeout);
            Assert.Equal(0, page.Count("table"));
        }
        finally
        {
            // Also when the page was stuck: its reads then go on at once instead of each waiting out its minute.
            gate.Set();
        }
        page.WaitForAssertion(() =>
        {
            Assert.Equal(0, page.Count(".mud-progress-linear"));
            var expected = kind switch { "user" => "cyrus", "folder" => anEvent.FolderId!, "event" => "MessageNew", _ => anEvent.Subject! };
            Assert.Contains(expected, page.Markup(), StringComparison.Ordinal);
        }, PageTestContext.Timeout);
    }

    [Fact]
    public async Task EventPage_AnotherEventFollowedWhileTheFirstStillLoads_LoadedInTurn_TheSecondShown()
    {
        // Reads go to the thread pool: the first event, slower than the second, ended last and would have set its fields
        // over the second's, showing the event left under the address of the one followed.
        using var gate = new ManualResetEventSlim();
        string? held = null;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(BlockingStore.Over(c.Store.Store, gate, args => args is [string id, ..] && id == held)));
        var events = (await context.Store.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("event:MessageNew OR event:Login"), Limit = 2 })).Items;
        var (first, second) = (events[0], events[1]);
        held = first.Id;

        var page = context.Render<EventDetail>(p => p.Add(x => x.Id, first.Id));
        page.Render(p => p.Add(x => x.Id, second.Id));
        // Time for the second load to run ahead of the first, as it did before loads were taken in turn (its read is not
        // held): up to 3 s for its read to be recorded. Taken in turn, it is not, and the first is let go after that.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < deadline && !(await context.AuditRecordsAsync()).Any(r => r.Target == second.Id))
        {
            await Task.Delay(20);
        }
        gate.Set();

        page.WaitForAssertion(() =>
        {
            Assert.Empty(page.FindAll(".mud-progress-linear"));
            Assert.Contains(second.Id, page.Markup, StringComparison.Ordinal);
            Assert.DoesNotContain(first.Id, page.Markup, StringComparison.Ordinal);
        }, PageTestContext.Timeout);
        // Read in the order the officer followed them: the first's read ended before the second's began.
        var reads = (await context.AuditRecordsAsync()).Where(r => r.Action == Bonnie.Web.Audit.OfficerActions.EventViewed)
            .OrderBy(r => r.Sequence).Select(r => r.Target).ToList();
        Assert.Equal([first.Id, second.Id], reads);
    }

    [Fact]
    public async Task FolderPage_AnotherFolderFollowedWhileItsContentsAreRead_TheOtherFolderShownWithoutThem()
    {
        // A review of the code: the contents' continuation read the folder the page had cleared meanwhile (an exception
        // that ends the circuit), or showed them as the other folder's.
        using var gate = new ManualResetEventSlim();
        var holding = false;
        await using var context = await PageTestContext.CreateAsync(moreServices: (c, services) =>
            services.AddSingleton(BlockingStore.Over(c.Store.Store, gate,
                args => Volatile.Read(ref holding) && args is [ObjectKind.Folder, string id, int, ..] && id == TestStore.Archive)));
        var page = context.Render<FolderHistory>(p => p.Add(x => x.Id, TestStore.Archive));
        page.WaitForAssertion(() => page.Find("button:contains('Show contents')"), PageTestContext.Timeout);
        Volatile.Write(ref holding, true);

        page.Find("button:contains('Show contents')").Click();
        page.Render(p => p.Add(x => x.Id, TestStore.Inbox));
        page.WaitForAssertion(() => Assert.Contains(TestStore.Inbox, page.Find("[role=region][aria-label=Folder]").TextContent, StringComparison.Ordinal),
            PageTestContext.Timeout);
        var rendersBefore = page.RenderCount;
        gate.Set();

        // The click's handler ends, and the page renders once more: with the contents dropped, not with an exception.
        page.WaitForState(() => page.RenderCount > rendersBefore, PageTestContext.Timeout);
        Assert.Contains(TestStore.Inbox, page.Find("[role=region][aria-label=Folder]").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(" at 2026-", page.Markup, StringComparison.Ordinal);
        Assert.False(page.Find("button:contains('Show contents')").HasAttribute("disabled"));
    }

    private static Rendered Render(PageTestContext context, string kind, StoredEvent e) => kind switch
    {
        "user" => Rendered.Of(context.Render<UserHistory>(p => p.Add(x => x.Login, "cyrus"))),
        "folder" => Rendered.Of(context.Render<FolderHistory>(p => p.Add(x => x.Id, e.FolderId!))),
        "message" => Rendered.Of(context.Render<MessageHistory>(p => p.Add(x => x.Key, e.MessageKeys[0]))),
        "event" => Rendered.Of(context.Render<EventDetail>(p => p.Add(x => x.Id, e.Id))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Any of the pages, as far as these tests look at them.</summary>
    private sealed record Rendered(Func<string> Markup, Func<string, int> Count, Action<Action, TimeSpan> WaitFor)
    {
        public static Rendered Of<T>(IRenderedComponent<T> page) where T : IComponent =>
            new(() => page.Markup, selector => page.FindAll(selector).Count, (assertion, timeout) => page.WaitForAssertion(assertion, timeout));

        public void WaitForAssertion(Action assertion, TimeSpan timeout) => WaitFor(assertion, timeout);
    }

    /// <summary>
    /// The real store, each read waiting on the caller's thread until the gate opens (at most a minute, so a page that
    /// reads on the circuit's thread fails the test instead of hanging it).
    /// </summary>
    public class BlockingStore : DispatchProxy
    {
        private IBonnieStore _inner = default!;
        private ManualResetEventSlim _gate = default!;

        private Func<object?[], bool> _holds = _ => true;

        /// <summary>The store, each read that <paramref name="holds"/> picks by its arguments (all reads without it) held.</summary>
        public static IBonnieStore Over(IBonnieStore inner, ManualResetEventSlim gate, Func<object?[], bool>? holds = null)
        {
            var proxy = Create<IBonnieStore, BlockingStore>();
            var self = (BlockingStore)(object)proxy;
            (self._inner, self._gate) = (inner, gate);
            self._holds = holds ?? (_ => true);
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if ((targetMethod!.Name.StartsWith("Get", StringComparison.Ordinal) || targetMethod.Name.StartsWith("Search", StringComparison.Ordinal))
                && _holds(args ?? []))
            {
                _gate.Wait(TimeSpan.FromMinutes(1));
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
    }
}
