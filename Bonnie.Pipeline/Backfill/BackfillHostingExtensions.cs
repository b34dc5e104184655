using Bonnie.Pipeline.Hosting;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Backfill;

public static class BackfillHostingExtensions
{
    /// <summary>
    /// The backfill of existing mail (<c>Bonnie:Backfill</c>), over the admin's IMAP connection of
    /// <c>Bonnie:Payloads:Imap</c>, checkpointed in <c>&lt;Bonnie:DataDirectory&gt;/backfill</c>. Needs AddBonnieStore.
    /// </summary>
    public static IHostApplicationBuilder AddBonnieBackfill(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BackfillOptions>().BindConfiguration(BackfillOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BackfillOptions>, ValidateBackfillOptions>();
        var dataDirectory = DataDirectory.Resolve(builder.Configuration, builder.Environment);
        services.AddSingleton(sp => new BackfillRunner(
            sp.GetRequiredService<IOptions<BackfillOptions>>().Value,
            sp.GetRequiredService<IOptions<PayloadOptions>>().Value.Imap,
            new BackfillWriter(sp.GetRequiredService<IBonnieStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<IIdentityEnricher>(),
                sp.GetRequiredService<IPayloadStore>()),
            sp.GetRequiredService<IPayloadStore>(),
            Path.Combine(DataDirectory.Ensure(dataDirectory), "backfill"),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<BackfillRunner>>()));
        services.AddHostedService(sp => sp.GetRequiredService<BackfillRunner>());
        return builder;
    }
}
