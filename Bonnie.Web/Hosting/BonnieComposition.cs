using Bonnie.Elasticsearch;
using Bonnie.Pipeline.Backfill;
using Bonnie.Pipeline.Export;
using Bonnie.Pipeline.Hosting;
using Bonnie.Pipeline.Restore;
using Bonnie.Pipeline.Storage;
using Bonnie.Web.Api;
using Bonnie.Web.Security;

namespace Bonnie.Web.Hosting;

/// <summary>The whole system in one host: each part is switched on or off by its own configuration section.</summary>
public static class BonnieComposition
{
    public static WebApplicationBuilder AddBonnie(this WebApplicationBuilder builder)
    {
        builder.AddBonnieWeb();
        builder.AddBonniePipeline();
        builder.AddBonnieStore();
        // Bonnie:Store:Kind=Elasticsearch: the same contract on a cluster (payloads stay in the store directory).
        if (builder.UsesElasticsearchStore())
        {
            builder.AddBonnieElasticsearchStore();
        }
        // After the store: the backfill writes through it.
        builder.AddBonnieBackfill();
        builder.AddBonnieSecurity();
        builder.AddBonnieRestore();
        builder.Services.AddBonnieExport();
        return builder;
    }

    public static WebApplication MapBonnie(this WebApplication app)
    {
        app.UseBonnieWeb();
        app.MapBonnieApi();
        app.MapBonnieRestoreApi();
        app.MapBonnieExportApi();
        app.MapBonnieBackfill();
        app.MapBonnieAuditApi();
        // HEAD too: load balancers probe with it (a HEAD was a 401, as no endpoint matched it).
        // 503 while the broker cannot write its queue: nothing is acknowledged then, and each Cyrus event waits for its
        // dealer's timeout; a review found health answering "ok" throughout. Anonymous, so the queue's path is not said.
        app.MapMethods("/api/health", [HttpMethods.Get, HttpMethods.Head], (IServiceProvider services) =>
            services.GetService<Bonnie.Pipeline.Broker.BrokerMonitor>()?.Current is { Fault: not null }
                ? Results.Json(new { status = "degraded", reason = "The broker cannot write its queue: no event is acknowledged until it can; the log says why." },
                    statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Ok(new { status = "ok" })).AllowAnonymous();
        return app;
    }
}
