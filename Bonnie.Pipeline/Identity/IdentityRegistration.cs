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
        return services;
    }
}
