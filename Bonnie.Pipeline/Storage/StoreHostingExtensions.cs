using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Hosting;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Storage;

public static class StoreHostingExtensions
{
    /// <summary>
    /// The store (embedded: <c>Bonnie:Store</c>, default directory <c>&lt;Bonnie:DataDirectory&gt;/store</c>), the
    /// handlers, the payload sources (<c>Bonnie:Payloads</c>) and the worker's <see cref="IJobProcessor"/>.
    /// </summary>
    public static IHostApplicationBuilder AddBonnieStore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<EmbeddedStoreOptions>().BindConfiguration(EmbeddedStoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmbeddedStoreOptions>, ValidateEmbeddedStoreOptions>();
        services.AddOptions<PayloadOptions>().BindConfiguration(PayloadOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PayloadOptions>, ValidatePayloadOptions>();

        var dataDirectory = DataDirectory.Resolve(builder.Configuration, builder.Environment);
        var contentRoot = builder.Environment.ContentRootPath;
        string StoreDirectory(EmbeddedStoreOptions o) => string.IsNullOrWhiteSpace(o.Directory)
            ? Path.Combine(DataDirectory.Ensure(dataDirectory), "store")
            : Path.GetFullPath(o.Directory, contentRoot);

        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<EmbeddedStoreOptions>>().Value;
            return new EmbeddedStore(StoreDirectory(o), o.CacheSizeMegabytes, sp.GetRequiredService<ILogger<EmbeddedStore>>()) { SearchTimeout = o.SearchTimeout };
        });
        services.AddSingleton<IBonnieStore>(sp => sp.GetRequiredService<EmbeddedStore>());
        services.AddSingleton<IPayloadStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<EmbeddedStoreOptions>>().Value;
            return new PayloadDirectory(Path.Combine(StoreDirectory(o), "payloads"), o.CompressPayloads);
        });
        services.AddHostedService<StoreInitializer>();
        // After the store's initializer: hosted services start in order, and the forwarder writes to the store. It has
        // nothing to do where no broker runs in this process (Bonnie:Broker:Enabled false, or a host of the store alone).
        services.AddHostedService(sp => new FailedJobForwarder(sp.GetService<JobBroker>(), sp.GetRequiredService<IBonnieStore>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<FailedJobForwarder>>()));

        // Handlers are plugins, resolved with the processor in each job's scope; they run in this order.
        services.AddScoped<IEventHandler, FolderHandler>();
        services.AddScoped<IEventHandler, MessageHandler>();
        services.AddScoped<IEventHandler, SessionHandler>();

        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PayloadOptions>>().Value);
        services.AddSingleton<IPayloadSource, EventContentPayloadSource>();
        services.AddSingleton<IPayloadSource, CollectedPayloadSource>();
        services.AddSingleton<IPayloadSource>(sp => new SpoolPayloadSource(sp.GetRequiredService<PayloadOptions>().SpoolPartitions));
        services.AddSingleton<IPayloadSource>(sp => new ImapPayloadSource(sp.GetRequiredService<PayloadOptions>().Imap, sp.GetRequiredService<ILogger<ImapPayloadSource>>()));
        services.AddSingleton<PayloadFetcher>();
        services.AddSingleton<IFolderMetadataSource>(sp => new ImapFolderMetadataSource(sp.GetRequiredService<PayloadOptions>().Imap));

        services.AddBonnieIdentityEnrichment();
        services.AddScoped<StoreJobProcessor>();
        // A diagnostics processor registered before (Bonnie:Worker:RecordTo) stays in charge.
        services.TryAddScoped<IJobProcessor>(sp => sp.GetRequiredService<StoreJobProcessor>());
        return builder;
    }
}

/// <summary>Creates or migrates the store's schema at start, so a broken store stops the host with its reason.</summary>
internal sealed class StoreInitializer(IBonnieStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
