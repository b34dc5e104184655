using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Payloads;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Bonnie.Pipeline.Hosting;

public static class PipelineHostingExtensions
{
    /// <summary>
    /// The broker and a worker, each switchable (<c>Bonnie:Broker:Enabled</c>, <c>Bonnie:Worker:Enabled</c>), so that
    /// the same binary runs as the whole system, a broker alone or a worker pool.
    /// </summary>
    public static IHostApplicationBuilder AddBonniePipeline(this IHostApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BrokerOptions>, ValidateBrokerOptions>();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WorkerOptions>, ValidateWorkerOptions>();
        builder.Services.AddSingleton<BrokerMonitor>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<BrokerMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(BrokerMetrics.MeterName));

        var dataDirectory = DataDirectory.Resolve(builder.Configuration, builder.Environment);
        if (builder.Configuration.GetValue(BrokerOptions.Section + ":Enabled", true))
        {
            builder.Services.AddSingleton(sp =>
            {
                var options = sp.GetRequiredService<IOptions<BrokerOptions>>().Value;
                var queue = string.IsNullOrWhiteSpace(options.QueueDirectory)
                    ? Path.Combine(DataDirectory.Ensure(dataDirectory), "broker")
                    : Path.GetFullPath(options.QueueDirectory, builder.Environment.ContentRootPath);
                return new JobBroker(options, queue, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<JobBroker>>(),
                    sp.GetRequiredService<BrokerMonitor>());
            });
            builder.Services.AddSingleton(sp => new BrokerControl(sp.GetRequiredService<JobBroker>()));
            builder.Services.AddHostedService<BrokerHostedService>();
        }
        if (builder.Configuration.GetValue(WorkerOptions.Section + ":Enabled", true))
        {
            if (builder.Configuration.GetValue(BrokerOptions.Section + ":Enabled", true))
            {
                // Only here are both limits known; a worker pool beside a remote broker relies on its documentation.
                builder.Services.AddSingleton<IValidateOptions<PayloadOptions>, ValidatePayloadAttemptsAgainstBroker>();
                // The worker beside its broker connects where that broker listens unless told otherwise: with the
                // broker's endpoints moved and the worker's left at their defaults, every event was acknowledged and
                // none ever stored (and a worker could have served another broker on the default ports).
                var configuration = builder.Configuration;
                builder.Services.AddOptions<WorkerOptions>().PostConfigure<IOptions<BrokerOptions>>((worker, broker) =>
                {
                    if (string.IsNullOrEmpty(configuration[WorkerOptions.Section + ":WorkerEndpoint"]))
                    {
                        worker.WorkerEndpoint = BrokerOptions.ConnectTo(broker.Value.WorkerEndpoint);
                    }
                    if (string.IsNullOrEmpty(configuration[WorkerOptions.Section + ":ControllerEndpoint"]))
                    {
                        worker.ControllerEndpoint = BrokerOptions.ConnectTo(broker.Value.ControllerEndpoint);
                    }
                });
            }
            var recordTo = builder.Configuration[WorkerOptions.Section + ":RecordTo"];
            if (!string.IsNullOrWhiteSpace(recordTo))
            {
                var delay = builder.Configuration.GetValue(WorkerOptions.Section + ":RecordDelay", TimeSpan.Zero);
                builder.Services.AddSingleton<IJobProcessor>(new RecordingJobProcessor(Path.GetFullPath(recordTo, builder.Environment.ContentRootPath), delay));
            }
            builder.Services.AddSingleton<JobWorker>(sp => new JobWorker(
                sp.GetRequiredService<IOptions<WorkerOptions>>().Value, sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<JobWorker>>()));
            builder.Services.AddHostedService<WorkerHostedService>();
        }
        return builder;
    }
}
