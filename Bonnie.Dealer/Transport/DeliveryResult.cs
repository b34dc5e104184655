namespace Bonnie.Dealer.Transport;

internal enum DeliveryOutcome
{
    /// <summary>The broker answered <c>ACK</c>: the event is durably queued there.</summary>
    Acknowledged,

    /// <summary>The broker answered <c>REFUSED &lt;reason&gt;</c>: it will never take this event as it is.</summary>
    Refused,

    /// <summary>No broker reachable, no answer in time, or an answer that is not <c>ACK</c>.</summary>
    NotDelivered,
}

internal readonly record struct DeliveryResult(DeliveryOutcome Outcome, string Detail)
{
    public static DeliveryResult Acknowledged { get; } = new(DeliveryOutcome.Acknowledged, "");

    public static DeliveryResult Refused(string reason) => new(DeliveryOutcome.Refused, reason);

    public static DeliveryResult NotDelivered(string why) => new(DeliveryOutcome.NotDelivered, why);
}
