using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Identity;

public static class IdentityRegistration
{
    /// <summary>Binds <c>Bonnie:Identity</c> (validated at start-up) and registers the directory resolver.</summary>
    public static IServiceCollection AddBonnieIdentity(this IServiceCollection services)
    {
        services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdentityOptions>, IdentityOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DirectoryResolver>();
        services.TryAddSingleton<IIdentityEnricher, DirectoryIdentityEnricher>();
        return services;
    }

    /// <summary>
    /// The identity of stored events: the worker's processor resolves each event's user, and a hosted service
    /// re-resolves the events stored while the directory was down. Needs the store (AddBonnieStore).
    /// </summary>
    public static IServiceCollection AddBonnieIdentityEnrichment(this IServiceCollection services)
    {
        services.AddBonnieIdentity();
        services.AddHostedService<IdentityReResolution>();
        return services;
    }
}
