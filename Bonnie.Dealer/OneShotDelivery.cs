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
        var deadline = Deadline.After(time, options.Timeout - time.GetElapsedTime(startTimestamp));
        using var broker = new BrokerClient(options.Brokers);
        if (!broker.TryConnect(deadline))
        {
            Spool(notification, $"broker unreachable ({broker.LastFailure})");
            return;
        }

        DrainSome(broker, deadline.Within(options.DrainBudget));

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

    private void DrainSome(BrokerClient broker, Deadline budget)
    {
        if (options.DrainMaxEvents <= 0 || budget.IsExpired)
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
            var result = broker.Deliver(claimed!.Payload, budget);
            if (!DrainCommand.Settle(claimed, result))
            {
                return; // the broker is slow or gone: this run's own event comes first
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
            StandardError.Write($"broker refused the event ({reason}); kept in {path}, not retried");
        }
        catch (SpoolUnavailableException e)
        {
            StandardError.Write($"broker refused the event ({reason}) and the spool cannot be written ({e.Message}); the event is: ",
                notification);
        }
    }
}
