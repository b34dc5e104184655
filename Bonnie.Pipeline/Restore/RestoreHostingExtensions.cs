using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Restore;

public static class RestoreHostingExtensions
{
    /// <summary>Restore into Cyrus (<c>Bonnie:Restore</c>); needs the store (<c>AddBonnieStore</c>).</summary>
    public static IHostApplicationBuilder AddBonnieRestore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<RestoreOptions>().BindConfiguration(RestoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RestoreOptions>, ValidateRestoreOptions>();
        services.AddSingleton<RestorePlanner>();
        services.AddSingleton<ImapRestorer>();
        services.AddSingleton(sp => new RestoreJobs(
            sp.GetRequiredService<RestorePlanner>(), sp.GetRequiredService<ImapRestorer>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<RestoreOptions>>(), sp.GetRequiredService<ILogger<RestoreJobs>>(),
            sp.GetService<IHostApplicationLifetime>()));
        return builder;
    }
}
