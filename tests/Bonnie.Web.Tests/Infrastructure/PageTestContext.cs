using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Officers;
using Bonnie.Web.Search;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using MudBlazor.Services;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>bUnit with the app's services over a real, filled embedded store, an interactive renderer and a signed-in officer.</summary>
internal sealed class PageTestContext : IAsyncDisposable
{
    public const string Officer = "ann";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private PageTestContext(TestStore store, TempDirectory directory, OfficerAuditLog audit)
    {
        Store = store;
        Directory = directory;
        Audit = audit;
    }

    public BunitContext Context { get; } = new();
    public TestStore Store { get; }
    public TempDirectory Directory { get; }
    public OfficerAuditLog Audit { get; }
    public BunitAuthorizationContext Authorization { get; private set; } = default!;
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    /// <param name="moreServices">Services of the page under test, added before anything is rendered.</param>
    public static async Task<PageTestContext> CreateAsync(byte[]? deliveredPayload = null, Action<PageTestContext, IServiceCollection>? moreServices = null)
    {
        var store = await TestStore.CreateAsync();
        await store.FillAsync(deliveredPayload ?? HostileMessage.Bytes);
        var directory = new TempDirectory();
        var dataDirectory = TestData.DataDirectoryIn(directory.Path);
        var audit = new OfficerAuditLog(dataDirectory, TimeProvider.System);
        var context = new PageTestContext(store, directory, audit);
        var services = context.Context.Services;
        services.AddMudServices();
        services.AddSingleton(store.Store);
        services.AddSingleton(store.Payloads);
        services.AddSingleton(audit);
        services.AddSingleton<IOfficerAudit>(audit);
        services.AddSingleton(new SavedSearches(dataDirectory, TimeProvider.System));
        services.AddSingleton<TimeProvider>(context.Clock);
        services.AddSingleton(new Bonnie.Pipeline.Status.SystemStatus());
        services.AddScoped<OfficerCircuit>(_ => new OfficerCircuit { ClientAddress = "192.0.2.7" });
        // Restore set up, as on a production Bonnie (its buttons are active); a test of an unset one adds its own, which wins.
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new Bonnie.Pipeline.Restore.RestoreOptions
        {
            Imap = new Bonnie.Pipeline.Restore.RestoreImapOptions { Host = "imap.invalid", Password = "unused" },
        }));
        moreServices?.Invoke(context, services);
        context.Authorization = context.Context.AddAuthorization();
        context.Authorization.SetAuthorized(Officer);
        context.Context.JSInterop.Mode = JSRuntimeMode.Loose;
        context.Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        context.Context.Render<MudPopoverProvider>();
        return context;
    }

    public IRenderedComponent<T> Render<T>(Action<ComponentParameterCollectionBuilder<T>>? parameters = null) where T : IComponent =>
        Context.Render(parameters);

    public async Task<IReadOnlyList<OfficerAuditRecord>> AuditRecordsAsync()
    {
        var (records, _) = await Audit.ReadPageAsync(0, 100, CancellationToken.None);
        return records;
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        Audit.Dispose();
        await Store.DisposeAsync();
        Directory.Dispose();
    }
}
