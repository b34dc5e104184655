using Bonnie.Shared.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Elasticsearch;

public static class ElasticsearchHostingExtensions
{
    /// <summary>
    /// Puts the Elasticsearch store (section <c>Bonnie:Elasticsearch</c>) in place of the embedded one: call it after
    /// <c>AddBonnieStore()</c>. Payloads stay in the embedded store's content-addressed directory
    /// (<c>Bonnie:Store:Directory</c>), which several hosts can share.
    /// </summary>
    public static IHostApplicationBuilder AddBonnieElasticsearchStore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ElasticsearchStoreOptions>().BindConfiguration(ElasticsearchStoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ElasticsearchStoreOptions>, ValidateElasticsearchStoreOptions>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<ElasticsearchStoreOptions>>().Value;
            var connection = new ElasticsearchConnection(o, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ElasticsearchConnection>>());
            return new ElasticsearchStore(connection, new IndexLayout(o.IndexPrefix), sp.GetRequiredService<ILogger<ElasticsearchStore>>())
            {
                FeedSettle = o.FeedSettle,
            };
        });
        services.Replace(ServiceDescriptor.Singleton<IBonnieStore>(sp => sp.GetRequiredService<ElasticsearchStore>()));
        return builder;
    }

    /// <summary><c>Bonnie:Store:Kind</c>: <c>Embedded</c> (default) or <c>Elasticsearch</c>.</summary>
    public static bool UsesElasticsearchStore(this IHostApplicationBuilder builder)
    {
        var kind = builder.Configuration["Bonnie:Store:Kind"];
        if (string.IsNullOrWhiteSpace(kind) || string.Equals(kind, "Embedded", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        if (string.Equals(kind, "Elasticsearch", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        throw new OptionsValidationException("Bonnie:Store:Kind", typeof(string),
            [$"Bonnie:Store:Kind must be Embedded or Elasticsearch (was '{kind}')."]);
    }
}
