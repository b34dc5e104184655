using System.Globalization;
using Bonnie.Dealer.Configuration;
using Bonnie.Dealer.Diagnostics;
using Bonnie.Dealer.Spool;
using Bonnie.Dealer.Transport;

namespace Bonnie.Dealer;

/// <summary><c>--drain</c>: delivers every spooled event, oldest first, until the spool is empty or the broker stops answering.</summary>
internal static class DrainCommand
{
    private const int Batch = 1000;

    public static int Run(DealerOptions options, EventSpool spool, TimeProvider time)
    {
        using var broker = new BrokerClient(options.Brokers, options.MaxNotificationBytes);
        int delivered = 0, refused = 0, recovered = 0;
        var failure = "";
        while (failure.Length == 0)
        {
            var pending = spool.Pending(Batch, out var stale);
            recovered += stale;
            if (pending.Count == 0)
            {
                break;
            }
            var progress = false;
            foreach (var spooled in pending)
            {
                if (!spool.TryClaim(spooled, out var claimed))
                {
                    continue;
                }
                var result = broker.Deliver(claimed!.Payload, Deadline.After(time, options.Timeout));
                if (!Settle(claimed, result))
                {
                    failure = result.Detail;
                    break;
                }
                progress = true;
                if (result.Outcome == DeliveryOutcome.Acknowledged)
                {
                    delivered++;
                }
                else
                {
                    refused++;
                }
            }
            if (!progress)
            {
                break; // everything left is claimed by running dealers
            }
        }
        var left = spool.Pending(int.MaxValue, out _).Count;
        var stopped = failure.Length > 0 ? $"; stopped: {failure}" : "";
        StandardError.Write(string.Create(CultureInfo.InvariantCulture,
            $"drain: delivered {delivered}, refused {refused} (moved to {EventSpool.UndeliverableFolder}/), pending {left}, undeliverable {spool.CountUndeliverable()}, stale claims recovered {recovered}, spool {string.Join(", ", spool.Directories)}{stopped}"));
        return 0;
    }

    /// <summary>Deletes, quarantines or puts back a claimed event after an attempt; false when it was not delivered.</summary>
    public static bool Settle(ClaimedEvent claimed, DeliveryResult result)
    {
        try
        {
            switch (result.Outcome)
            {
                case DeliveryOutcome.Acknowledged:
                    EventSpool.Complete(claimed);
                    return true;
                case DeliveryOutcome.Refused:
                    var path = EventSpool.MoveToUndeliverable(claimed, result.Detail);
                    StandardError.Write($"broker refused spooled event {claimed.Event.Name} ({result.Detail}); kept in {path}, not retried");
                    return true;
                default:
                    EventSpool.Release(claimed);
                    return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            StandardError.Write($"spooled event {claimed.Event.Name}: {e.Message} (claim file {claimed.ClaimPath} is put back by a later run)");
            return result.Outcome != DeliveryOutcome.NotDelivered;
        }
    }
}
