using System.Diagnostics.Tracing;

namespace Bonnie.Bench;

/// <summary>
/// Where the garbage collector's work comes from, by type: the runtime reports a sample every ~100 KB allocated
/// (GCAllocationTick) with the type that crossed the mark, so the bytes per type are estimates, right in proportion
/// over many samples. In-process, so no profiler is needed on the machine (store --allocations).
/// </summary>
internal sealed class AllocationListener : EventListener
{
    private const int GcKeyword = 0x1;
    private const int AllocationTickEvent = 10;
    private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId != AllocationTickEvent || e.Payload is null || e.PayloadNames is null)
        {
            return;
        }
        var type = e.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 0;
        lock (_lock)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }

    /// <summary>The types that took the most, with their share of all sampled bytes.</summary>
    public void Print(int events, int top = 25)
    {
        List<KeyValuePair<string, long>> rows;
        lock (_lock)
        {
            rows = [.. _bytes.OrderByDescending(r => r.Value)];
        }
        var total = rows.Sum(r => r.Value);
        Console.WriteLine($"allocated (sampled): {total / 1e6:N0} MB, {total / (double)events / 1024:N1} KB per event; by type:");
        foreach (var (type, bytes) in rows.Take(top))
        {
            Console.WriteLine($"  {bytes * 100.0 / total,5:N1}%  {bytes / (double)events,8:N0} B/event  {type}");
        }
    }
}
