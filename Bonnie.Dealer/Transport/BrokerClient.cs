namespace Bonnie.Dealer.Transport;

/// <summary>
/// One connection to the first broker that answers, reused for every event of this run. After an event
/// goes unanswered the connection is dropped: a late ACK must never be taken for the next event's.
/// </summary>
/// <param name="maxNotificationBytes">Larger notifications are refused here, before anything is sent (see <see cref="Configuration.DealerOptions.MaxNotificationBytes"/>).</param>
internal sealed class BrokerClient(IReadOnlyList<BrokerEndpoint> endpoints, long maxNotificationBytes = long.MaxValue) : IDisposable
{
    private ZmtpDealerConnection? _connection;

    public string LastFailure { get; private set; } = "";

    /// <summary>Tries each endpoint in order; each gets an equal share of what is left of the deadline.</summary>
    public bool TryConnect(Deadline deadline)
    {
        if (_connection is not null)
        {
            return true;
        }
        var failures = new List<string>(endpoints.Count);
        for (var i = 0; i < endpoints.Count; i++)
        {
            var share = deadline.Within(deadline.Remaining / (endpoints.Count - i));
            try
            {
                _connection = ZmtpDealerConnection.Open(endpoints[i], share);
                return true;
            }
            catch (BrokerUnavailableException e)
            {
                failures.Add(e.Message);
            }
        }
        LastFailure = string.Join("; ", failures);
        return false;
    }

    public DeliveryResult Deliver(byte[] payload, Deadline deadline)
    {
        if (payload.Length > maxNotificationBytes)
        {
            return DeliveryResult.Refused(
                $"notification of {payload.Length} bytes is over the dealer's limit of {maxNotificationBytes} bytes (max_notification_bytes)");
        }
        if (!TryConnect(deadline))
        {
            return DeliveryResult.NotDelivered(LastFailure);
        }
        var result = _connection!.Deliver(payload, deadline);
        if (result.Outcome == DeliveryOutcome.NotDelivered)
        {
            LastFailure = result.Detail;
            _connection.Dispose();
            _connection = null;
        }
        return result;
    }

    public void Dispose() => _connection?.Dispose();
}
