using Microsoft.Extensions.Options;

namespace Bonnie.Collector;

internal static class CollectorHostingExtensions
{
    public static IHostApplicationBuilder AddBonnieCollector(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CollectorOptions>().BindConfiguration(CollectorOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CollectorOptions>, ValidateCollectorOptions>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<CollectorOptions>>().Value);
        builder.Services.AddSingleton<CollectAnswerer>();
        builder.Services.AddSingleton<CollectorService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CollectorService>());
        return builder;
    }
}
