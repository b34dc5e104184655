using System.Diagnostics.Metrics;

namespace Bonnie.Pipeline.Broker;

/// <summary>
/// The broker's state as metrics (meter <c>Bonnie.Broker</c>), read from the published snapshot so that no
/// instrument ever touches the broker's own thread. Export with any OpenTelemetry exporter.
/// </summary>
public sealed class BrokerMetrics : IDisposable
{
    public const string MeterName = "Bonnie.Broker";

    private readonly Meter _meter;

    public BrokerMetrics(IMeterFactory meters, BrokerMonitor monitor)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("bonnie.broker.jobs", () => monitor.Current.Jobs
            .Select(j => new Measurement<long>(j.Value, new KeyValuePair<string, object?>("state", j.Key.ToString().ToUpperInvariant()))),
            unit: "{job}", description: "Jobs in the broker's queue by state");
        _meter.CreateObservableGauge("bonnie.broker.workers", () => monitor.Current.Workers
            .GroupBy(w => w.State)
            .Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("state", g.Key.ToString()))),
            unit: "{worker}", description: "Connected workers by state");
        _meter.CreateObservableCounter("bonnie.broker.submitted", () => monitor.Current.Submitted,
            unit: "{job}", description: "Notifications durably queued");
        _meter.CreateObservableCounter("bonnie.broker.duplicates", () => monitor.Current.Duplicates,
            unit: "{notification}", description: "Notifications acknowledged again without a new job");
        _meter.CreateObservableCounter("bonnie.broker.refused", () => monitor.Current.Refused,
            unit: "{notification}", description: "Notifications refused as too large");
        _meter.CreateObservableGauge("bonnie.broker.done_rate", () => monitor.Current.DonePerSecond,
            unit: "{job}/s", description: "Jobs finished per second over the last minute");
    }

    public void Dispose() => _meter.Dispose();
}
