using Bonnie.Dealer.Configuration;
using Bonnie.Dealer.Diagnostics;
using Bonnie.Dealer.Spool;
using Bonnie.Dealer.Transport;

namespace Bonnie.Dealer;

/// <summary>
/// One Cyrus event: connect, hand over a few spooled events oldest first (within a small budget), then this
/// one. Whatever is not acknowledged by the deadline goes (back) to the spool. Cyrus waits at most the
/// timeout plus the time to write one file.
/// </summary>
internal sealed class OneShotDelivery(DealerOptions options, EventSpool spool, TimeProvider time, long startTimestamp)
{
    public void Run(byte[] notification)
    {
        // The timeout is what Cyrus waits in all: a tenth of it (at most 50 ms) is kept back for the spool write,
        // whose two fsyncs take tens of milliseconds on a busy disk.
        var spoolReserve = TimeSpan.FromMilliseconds(Math.Min(50, options.Timeout.TotalMilliseconds / 10));
        var deadline = Deadline.After(time, options.Timeout - spoolReserve - time.GetElapsedTime(startTimestamp));
        using var broker = new BrokerClient(options.Brokers, options.MaxNotificationBytes);
        if (!broker.TryConnect(deadline))
        {
            Spool(notification, $"broker unreachable ({broker.LastFailure})");
            return;
        }

        DrainSome(broker, deadline.Within(options.DrainBudget), deadline);

        var result = broker.Deliver(notification, deadline);
        switch (result.Outcome)
        {
            case DeliveryOutcome.Acknowledged:
                return;
            case DeliveryOutcome.Refused:
                KeepUndeliverable(notification, result.Detail);
                return;
            default:
                Spool(notification, $"not acknowledged ({result.Detail})");
                return;
        }
    }

    /// <summary>
    /// The budget only decides whether to start another spooled event; once sent, its ACK is awaited up to the
    /// run's deadline. Abandoning it sooner would re-send the same oldest event on every run while the broker
    /// is slow, and the backlog would never shrink.
    /// </summary>
    private void DrainSome(BrokerClient broker, Deadline budget, Deadline deadline)
    {
        if (options.DrainMaxEvents <= 0)
        {
            return;
        }
        foreach (var spooled in spool.Pending(options.DrainMaxEvents, out _))
        {
            if (budget.IsExpired)
            {
                return;
            }
            if (!spool.TryClaim(spooled, out var claimed))
            {
                continue;
            }
            var result = broker.Deliver(claimed!.Payload, deadline);
            if (!DrainCommand.Settle(claimed, result))
            {
                return; // the broker is slow or gone: what is left of the deadline is this run's own event's
            }
        }
    }

    private void Spool(byte[] notification, string why)
    {
        try
        {
            var path = spool.Store(notification);
            StandardError.Write($"{why}; event spooled to {path}");
        }
        catch (SpoolUnavailableException e)
        {
            StandardError.Write($"{why} and the spool cannot be written ({e.Message}); the event is: ", notification);
        }
    }

    private void KeepUndeliverable(byte[] notification, string reason)
    {
        try
        {
            var path = spool.StoreUndeliverable(notification, reason);
            StandardError.Write($"the event is undeliverable ({reason}); kept in {path}, not retried");
        }
        catch (SpoolUnavailableException e)
        {
            StandardError.Write($"the event is undeliverable ({reason}) and the spool cannot be written ({e.Message}); the event is: ",
                notification);
        }
    }
}
