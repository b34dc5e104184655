using Bonnie.Pipeline.Broker;

namespace Bonnie.Web.LiveSystem;

internal static class LiveExtensions
{
    /// <summary>The live system view's access to the broker's failed jobs, and the audited retry.</summary>
    public static IServiceCollection AddLiveSystemView(this IServiceCollection services)
    {
        // BrokerControl is registered only when the broker runs in this process (Bonnie:Broker:Enabled).
        services.AddSingleton<IFailedJobQueue>(sp => sp.GetService<BrokerControl>() is { } control
            ? new BrokerFailedJobQueue(control)
            : NoFailedJobQueue.Instance);
        services.AddScoped<FailedJobRetry>();
        return services;
    }
}
