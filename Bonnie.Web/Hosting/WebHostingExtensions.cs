using Bonnie.Pipeline.Status;
using Bonnie.Shared.Search;
using Bonnie.Web.Api;
using Bonnie.Web.Audit;
using Bonnie.Web.Components;
using Bonnie.Web.LiveSystem;
using Bonnie.Web.Messages;
using Bonnie.Web.Officers;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Bonnie.Web.Hosting;

public static class WebHostingExtensions
{
    /// <summary>Where the host listens when neither <c>--urls</c>, ASPNETCORE_URLS nor Kestrel endpoints say otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>
    /// The longest request line Kestrel takes. A query travels in the URL (<c>/api/events?q=</c>, <c>/search?q=</c>),
    /// and the parser allows <see cref="QueryParser.MaxLength"/> characters: at up to 4 UTF-8 bytes each,
    /// percent-encoded as 12, that is 48 KiB, beyond Kestrel's default of 8 KiB, which answered 414 for a query of
    /// 1,531 accented characters before the parser could say anything. 16 KiB more holds the path, limit, cursor and
    /// facets; the sign-in page's ReturnUrl, which encodes a bookmarked search's address once more (61 KB for 4,096 €),
    /// fits too. (The headers never carry the query: every page is served with <c>Referrer-Policy: no-referrer</c>.)
    /// </summary>
    internal const int MaxRequestLineSize = QueryParser.MaxLength * 12 + 16 * 1024;

    /// <summary>
    /// The largest message the browser may send the circuit. The search page keeps its query in the address, and the
    /// browser sends the whole address when the circuit starts and at each navigation: with SignalR's default of
    /// 32 KiB, a query of 4,096 characters like € (37 KB percent-encoded) closed the circuit and the page never
    /// answered. The default's 32 KiB stays for the rest of the message.
    /// </summary>
    internal const int MaxCircuitMessageSize = MaxRequestLineSize + 32 * 1024;

    /// <summary>
    /// The officers' application: data directory, loopback-only default address, Blazor Server with
    /// MudBlazor, officers' accounts and their audit log, and the system status the home page shows.
    /// </summary>
    /// <summary>
    /// The framework logs each request's whole address at Information, search terms (people's addresses) and anything a
    /// caller put in the query string (a key sent there by mistake) included. appsettings.json keeps it at Warning, but is
    /// read from the content root only: a host started from another directory logged them all (a review). Unless the
    /// configuration says otherwise, Warning wherever the host is started from.
    /// </summary>
    internal static void KeepRequestLinesOutOfTheLog(WebApplicationBuilder builder)
    {
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }
    }

    public static WebApplicationBuilder AddBonnieWeb(this WebApplicationBuilder builder)
    {
        KeepRequestLinesOutOfTheLog(builder);
        // A fresh install must not be reachable from the network until someone says so.
        if (!HasConfiguredAddresses(builder.Configuration))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Serve the UI's assets from where the build left them in every environment, not only Development, so a
        // plain `dotnet run` works; a published app has no build manifest and serves them from wwwroot instead.
        builder.WebHost.UseStaticWebAssets();

        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestLineSize = MaxRequestLineSize);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<HostingOptions>().BindConfiguration("Bonnie").ValidateOnStart();
        services.AddSingleton<IValidateOptions<HostingOptions>, ValidateHostingOptions>();
        services.AddSingleton<DataDirectory>();

        // Cookie and antiforgery keys survive restarts and stay beside the data they protect.
        services.AddDataProtection().SetApplicationName("Bonnie");
        services.AddOptions<KeyManagementOptions>()
            .Configure<DataDirectory, ILoggerFactory>((options, directory, loggers) =>
                options.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(directory.PathOf("keys")), loggers));

        services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(o => o.MaximumReceiveMessageSize = MaxCircuitMessageSize);
        services.AddCascadingAuthenticationState();
        services.AddAntiforgery(o => o.Cookie.Name = "bonnie.antiforgery");
        services.AddMudServices();

        services.AddSingleton<SystemStatus>();
        services.AddHostedService<BrokerStatusFeed>();
        services.AddHostedService<StoreStatusFeed>();
        services.AddSingleton<PayloadSourceNotice>();
        services.AddSingleton<StoredEventsTimeline>();
        services.AddOfficerAudit();
        services.AddOfficers();
        services.AddLiveSystemView();
        services.AddSingleton<Search.SavedSearches>();
        return builder;
    }

    /// <summary>The request pipeline and endpoints of the officers' application.</summary>
    public static WebApplication UseBonnieWeb(this WebApplication app)
    {
        if (UsesHttps(app.Configuration))
        {
            if (!app.Environment.IsDevelopment())
            {
                app.UseHsts();
            }
            app.UseHttpsRedirection();
        }
        app.UseBonnieSecurityHeaders();
        app.UseBonnieApiErrors();
        // An address with no page (or a GET that failed without a body) gets the application's own page, with its
        // navigation, not the browser's bare error page; never under /api (JSON there, UseBonnieApiErrors).
        app.UseWhen(context => HttpMethods.IsGet(context.Request.Method) && !context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase),
            web => web.UseStatusCodePagesWithReExecute("/not-found", "?status={0}", createScopeForStatusCodePages: true));
        // Explicitly here, after the status pages: the Not found page is found by routing the request again.
        app.UseRouting();
        app.UseAuthentication();
        app.UseMustChangePassword();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapOfficerEndpoints();
        app.MapMessageDownloads();
        return app;
    }

    internal static bool HasConfiguredAddresses(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["urls"])
        || !string.IsNullOrWhiteSpace(configuration["http_ports"])
        || !string.IsNullOrWhiteSpace(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();

    internal static bool UsesHttps(IConfiguration configuration) =>
        (configuration["urls"] ?? "").Contains("https://", StringComparison.OrdinalIgnoreCase)
        || !string.IsNullOrWhiteSpace(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Any(e => (e["Url"] ?? "").StartsWith("https://", StringComparison.OrdinalIgnoreCase));
}
